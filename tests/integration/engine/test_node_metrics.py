"""Issue 14 item 5: a node session on the sandbox shows in ``/metrics`` (equity, cash,
orders, fills, latency, feed lag, breaker, kill switch: the sandbox's own books are the
witness) and in ``trading.log`` (a line per order and per fill, naming the bot)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import WebhookReceiver
from tests.integration.engine.conftest import sandbox_fill_ids, sandbox_orders
from tests.integration.sandbox.conftest import KEY, SECRET, make_config

from stockyard.bus import InProcessBus
from stockyard.config import LogSettings, Settings, load_settings
from stockyard.data.feeds import AlpacaFeed
from stockyard.engine import (
    TRADING_METRIC_NAMES,
    NodeConfig,
    TradeNotifier,
    TradingNode,
    build_node,
    trade_notifier,
)
from stockyard.obs import configure_logging, flush_logs, shutdown_logging
from stockyard.sandbox import SandboxServer
from stockyard.store import open_database
from stockyard.strategy import BarRow, Strategy

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class UpDown(Strategy):
    """Buys one share on an up bar, sells one it holds on a down bar: orders on bars."""

    name = "up_down"

    def on_bar(self, bar: BarRow) -> None:
        if self.open_orders(bar.symbol):
            return
        if bar.close > bar.open:
            self.buy(bar.symbol, 1)
        elif bar.close < bar.open and self.position(bar.symbol) > 0:
            self.sell(bar.symbol, 1)


def scrape(registry: CollectorRegistry) -> Samples:
    """What ``/metrics`` serves, parsed back from the Prometheus text format."""
    text = generate_latest(registry).decode()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset({"node": "sandbox", **labels}.items()))]


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set({"node": "sandbox", **labels}.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


async def until(check: Callable[[], object], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def node_settings(**overrides: object) -> Settings:
    return load_settings(overrides={"alpaca.key_id": KEY, "alpaca.secret_key": SECRET, **overrides})


async def trade(server: SandboxServer, node: TradingNode, *, fills: int) -> None:
    """Step the paused sandbox a minute at a time until the node has ``fills`` fills and
    no order open."""
    feed = node.feed
    assert isinstance(feed, AlpacaFeed)
    await until(lambda: "AAPL" in feed.acknowledged, within=30, what="the subscription")
    deadline = time.monotonic() + 90
    while node.fills < fills or (node.kernel is not None and node.kernel.open_orders):
        if time.monotonic() > deadline:
            pytest.fail(f"the node made {node.fills} fills, {fills} wanted")
        target = server.sandbox.clock.now() + timedelta(seconds=60)
        await asyncio.wrap_future(server.submit(server.sandbox.step_to(target)))
        await asyncio.sleep(0.05)


def sandbox_books(server: SandboxServer) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    with server.sandbox.locked() as exchange:
        account = exchange.account(server.config.account_id)
        positions = {p.symbol: p.qty for p in exchange.positions(server.config.account_id)}
    return account.cash, account.equity, {s: q for s, q in positions.items() if q}


async def _session(server: SandboxServer, node: TradingNode, registry: CollectorRegistry) -> None:
    await node.start()
    try:
        await trade(server, node, fills=4)
        kernel = node.kernel
        assert kernel is not None
        samples = scrape(registry)
        decided = total(samples, "stockyard_orders_submitted_total", bot="up_down")
        assert total(samples, "stockyard_bar_to_order_seconds_count", on="bar") == decided
        assert total(samples, "stockyard_bar_to_order_seconds_sum", on="bar") > 0
        node.kill("end of the test")  # flattens: the books are cash only, easy to compare
        await until(lambda: not node.kernel.portfolio.positions(), within=30, what="flat")  # type: ignore[union-attr]
        await trade(server, node, fills=node.fills)  # the flattening order has settled
        cash, equity, positions = sandbox_books(server)
        assert positions == {}
        await until(
            lambda: value(scrape(registry), "stockyard_kill_switch_engaged") == 1,
            within=10,
            what="the metrics to show the kill switch (within a housekeeping tick)",
        )
        samples = scrape(registry)
        assert value(samples, "stockyard_account_cash_dollars") == float(cash)
        assert value(samples, "stockyard_account_equity_dollars") == float(equity)
        assert total(samples, "stockyard_orders_open") == 0
        assert value(samples, "stockyard_node_running") == 1
        orders = sandbox_orders(server)
        assert total(samples, "stockyard_orders_submitted_total") == len(orders)
        filled = [o for o in orders.values() if o["status"] == "filled"]
        assert total(samples, "stockyard_orders_total", state="filled") == len(filled)
        assert total(samples, "stockyard_fills_total") == len(sandbox_fill_ids(server))
        assert total(samples, "stockyard_fills_total", bot="up_down") >= 4
        assert value(samples, "stockyard_kill_switch_engaged") == 1
        assert value(samples, "stockyard_node_breaker_state", breaker="alpaca.trading") == 0
        assert value(samples, "stockyard_feed_lag_seconds") >= 0
        assert value(samples, "stockyard_market_data_total", kind="bar") == node.bars
        assert value(samples, "stockyard_bot_unrealized_pnl_dollars", bot="up_down") == 0
        realized = value(samples, "stockyard_bot_realized_pnl_dollars", bot="up_down")
        assert realized == float(kernel.portfolio.realized_pl())
    finally:
        await node.stop()
    assert not any(n == "stockyard_node_running" for n, _ in scrape(registry))  # detached


def test_metrics_and_the_trading_log_follow_a_sandbox_session(tmp_path: Path) -> None:
    server = SandboxServer(make_config(symbols=("AAPL",))).start()
    logs = tmp_path / "logs"
    configure_logging(LogSettings(dir=logs, format="json", console=False))
    try:
        registry = CollectorRegistry()
        node = build_node(
            node_settings(),
            strategies=[UpDown(symbols=["AAPL"])],
            broker="sandbox",
            bus=InProcessBus(registry=CollectorRegistry()),
            sandbox_url=server.base_url,
            database=open_database(f"sqlite:///{tmp_path / 'state.db'}"),
            config=NodeConfig(tick_s=0.05),
            metrics_registry=registry,
        )
        asyncio.run(_session(server, node, registry))
        assert flush_logs()
        lines = [json.loads(x) for x in (logs / "trading.log").read_text().splitlines()]
        orders, fills = sandbox_orders(server), sandbox_fill_ids(server)
    finally:
        shutdown_logging()
        server.stop()
    assert set(TRADING_METRIC_NAMES) >= {"stockyard_fills_total", "stockyard_orders_total"}
    sent = {e["client_order_id"]: e for e in lines if e["event"] == "order submitted"}
    assert set(sent) == set(orders)
    assert {e["bot"] for e in sent.values()} == {"up_down"}
    final = {e["client_order_id"]: e for e in lines if e["event"] == "order update"}
    assert {c: e["status"] for c, e in final.items()} == {c: o["status"] for c, o in orders.items()}
    assert {e["bot"] for e in final.values()} == {"up_down"}
    traded = {e["fill_id"]: e for e in lines if e.get("kind") == "trade"}
    assert len(traded) == len(fills) >= 4
    for entry in traded.values():
        assert entry["bot"] == "up_down"
        assert entry["order_id"] in orders


async def _notified_session(
    server: SandboxServer, node: TradingNode, notifiers: list[TradeNotifier]
) -> None:
    await node.start()
    try:
        await trade(server, node, fills=2)
        summary_at = server.sandbox.clock.now() + timedelta(minutes=2)
        while node.clock.now() <= summary_at:  # the node's clock follows the replay's bars
            target = server.sandbox.clock.now() + timedelta(seconds=60)
            await asyncio.wrap_future(server.submit(server.sandbox.step_to(target)))
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # a few housekeeping ticks see the time go past
        node.kill("halted by the test")
        await trade(server, node, fills=node.fills)  # the flattening settles
        await until(
            lambda: any("halted" in t for t in notifiers[0].titles), within=10, what="the halt"
        )
        for notifier in notifiers:
            await notifier.drain()
    finally:
        await node.stop()


# apprise's plugins import the standard library's imghdr, deprecated in Python 3.11+.
@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_fills_halts_and_a_daily_summary_are_sent_only_when_switched_on(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    silent = WebhookReceiver()
    server = SandboxServer(make_config(symbols=("AAPL",))).start()
    try:
        start = server.sandbox.clock.now().astimezone(ZoneInfo("America/New_York"))
        at = (start + timedelta(minutes=3)).time().replace(second=0, microsecond=0)
        off_url = silent.url.replace("http://", "json://")
        settings = node_settings(**{"alerts.apprise_urls": off_url})  # every kind off
        node = build_node(
            settings,
            strategies=[UpDown(symbols=["AAPL"])],
            broker="sandbox",
            bus=InProcessBus(registry=CollectorRegistry()),
            sandbox_url=server.base_url,
            database=open_database(f"sqlite:///{tmp_path / 'state.db'}"),
            config=NodeConfig(tick_s=0.05),
            metrics_registry=CollectorRegistry(),
        )
        assert trade_notifier(settings) is None
        assert node.fill_listeners == []
        assert node.tick_listeners == []
        switched_on = {
            "alerts.apprise_urls": webhook.url.replace("http://", "json://"),
            "alerts.notify_fills": True,
            "alerts.notify_halts": True,
            "alerts.notify_daily_summary": True,
            "alerts.daily_summary_at": at.isoformat(),
        }
        on = trade_notifier(node_settings(**switched_on))
        assert on is not None
        off = TradeNotifier([off_url], summary_at=at)  # the same URL kind, every kind off
        for notifier in (on, off):
            notifier.attach(node)
        asyncio.run(_notified_session(server, node, [on, off]))
        fills = node.fills
    finally:
        server.stop()
        silent.close()
    bodies = []
    while not webhook.bodies.empty():
        bodies.append(webhook.bodies.get())
    titles = [str(b["title"]) for b in bodies]
    assert sum(t.startswith("[stockyard] fill up_down: ") for t in titles) == fills >= 2
    assert "[stockyard] trading halted: kill switch" in titles
    halt = next(b for b in bodies if "halted" in str(b["title"]))
    assert "halted by the test" in str(halt["message"])
    summary = next(b for b in bodies if "daily summary" in str(b["title"]))
    assert "up_down:" in str(summary["message"])
    assert "equity $" in str(summary["message"])
    assert "fills" in str(summary["message"])
    assert on.failed == 0
    assert on.sent == len(bodies)
    assert off.sent == 0
    assert off.failed == 0
    assert silent.bodies.empty()  # with every kind off, nothing reached its URL
