"""The trading node on an in-process venue (``SimBroker``), a SQLite state file, and bars
published on the bus by hand: the order path, restart, reconciliation and the kill switch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.config import RiskSettings
from stockyard.core import Bar, Fill, OrderRequest, OrderSide, OrderStatus, OrderType, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import (
    NodeConfig,
    NodeHealth,
    TradingNode,
    VenueClock,
    register_node_checks,
)
from stockyard.engine._node_health import pace, trading
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.health import HealthRegistry, HealthStatus, Observation, SourceReport
from stockyard.resilience import RateLimiter
from stockyard.store import open_database
from stockyard.strategy import BarRow, Strategy
from stockyard.strategy.ml import MlDirection

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


class BuyOnce(Strategy):
    """Buys 10 on its first bar (market), and leaves a resting buy limit far below."""

    name = "buy_once"

    def on_bar(self, bar: BarRow) -> None:
        count = self.state.get("bars", 0)
        assert isinstance(count, int)
        self.state["bars"] = count + 1
        if count == 0:
            self.buy(bar.symbol, 10)
            self.buy(bar.symbol, 5, limit=round(bar.close * 0.95, 2))


class Venue:
    """One SimExchange account, its clock, and a state database: what outlives a node."""

    def __init__(self, tmp: Path) -> None:
        self.clock = VenueClock(START)
        self.exchange = SimExchange(clock=self.clock.now, calendar=MarketCalendar.always_open())
        self.exchange.add_asset(Asset.stock("AAPL"))
        self.exchange.open_account("acct", cash=Decimal(100_000))
        self.database_url = f"sqlite:///{tmp / 'state.db'}"
        self.minute = 0

    def node(self, *strategies: Strategy, risk: RiskSettings | None = None) -> TradingNode:
        return TradingNode(
            strategies=strategies,
            broker=SimBroker(self.exchange, account_id="acct"),
            database=open_database(self.database_url),
            bus=InProcessBus(registry=CollectorRegistry()),
            clock=self.clock,
            risk=risk,
            config=NodeConfig(tick_s=0.05),
        )

    def bar(self, node: TradingNode, close: float = 100.0) -> None:
        """A minute bar, at the venue and on the node's bus (the venue sees it first)."""
        at = START + timedelta(minutes=self.minute)
        self.minute += 1
        bar = Bar("AAPL", at, close, close + 0.5, close - 0.5, close, 1_000.0)
        self.exchange.on_bar(bar)
        node.bus.publish("md.bar.AAPL", bar)

    def trade(self, node: TradingNode, price: float = 100.0) -> None:
        """A print one second after the last bar closed: market orders fill on it."""
        at = START + timedelta(minutes=self.minute, seconds=1)
        trade = Trade("AAPL", at, price, 1_000.0)
        self.clock.observe(at)
        self.exchange.on_trade(trade)
        node.bus.publish("md.trade.AAPL", trade)


async def sent(node: TradingNode) -> None:
    """Wait until the sends and cancels the node scheduled have run."""
    await until(lambda: node.router is not None and not node.router.in_flight, what="sends")


async def until(check: Callable[[], object], *, what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


def test_a_bar_becomes_a_journaled_order_and_its_fill_reaches_the_books_and_the_bus(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    bot = BuyOnce(symbols=["AAPL"])
    node = venue.node(bot)
    fills: list[Fill] = []
    node.bus.subscribe("exec.fill", lambda _t, fill: fills.append(fill))

    async def scenario() -> None:
        await node.start()
        venue.bar(node)
        assert node.journal is not None
        # prepare() returned before anything was sent: both intents are durable already.
        assert [i.client_order_id for i, _ in node.journal.intents()] == [
            "buy_once-0",
            "buy_once-1",
        ]
        await sent(node)
        venue.trade(node)
        await until(lambda: node.fills == 1, what="the market order's fill")
        await node.stop()

    asyncio.run(scenario())
    assert node.kernel is not None
    assert node.kernel.portfolio.qty("AAPL") == 10
    assert bot.position("AAPL") == 10
    assert [f.client_order_id for f in fills] == ["buy_once-0"]
    assert bot.open_orders("AAPL") == ["buy_once-1"]


def test_a_restarted_node_gets_state_position_and_open_orders_back(tmp_path: Path) -> None:
    venue = Venue(tmp_path)

    async def first() -> None:
        node = venue.node(BuyOnce(symbols=["AAPL"]))
        await node.start()
        venue.bar(node)
        await sent(node)
        venue.trade(node)
        await until(lambda: node.fills == 1, what="the fill")
        await node.stop()

    asyncio.run(first())
    again = BuyOnce(symbols=["AAPL"])
    node = venue.node(again)

    async def second() -> None:
        await node.start()
        venue.bar(node)  # its second bar: it must not buy again
        await asyncio.sleep(0)
        await node.stop()

    asyncio.run(second())
    assert again.position("AAPL") == 10
    assert again.state["bars"] == 2
    assert again.open_orders("AAPL") == ["buy_once-1"]
    assert node.journal is not None
    assert len(node.journal.intents()) == 2
    opening = node.reconciliations[0]
    assert opening.reason == "start"
    assert opening.corrections == ()


def test_start_corrects_the_books_to_the_broker_and_says_what_differed(tmp_path: Path) -> None:
    venue = Venue(tmp_path)
    venue.exchange.on_trade(Trade("AAPL", START, 100.0, 1_000.0))
    manual = OrderRequest(
        symbol="AAPL", side=OrderSide.BUY, qty=Decimal(7), type=OrderType.MARKET,
        client_order_id="by-hand",
    )  # fmt: skip
    venue.exchange.submit("acct", manual)
    venue.exchange.on_trade(Trade("AAPL", START + timedelta(seconds=1), 100.0, 1_000.0))
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    async def scenario() -> None:
        await node.start()
        await node.stop()

    asyncio.run(scenario())
    corrections = node.reconciliations[0].corrections
    assert [(c.kind, c.symbol, c.ours, c.theirs) for c in corrections] == [
        ("position", "AAPL", Decimal(0), Decimal(7))
    ]
    assert node.kernel is not None
    assert node.kernel.portfolio.qty("AAPL") == 7


def test_the_kill_switch_cancels_every_open_order_flattens_and_refuses_new_ones(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    bot = BuyOnce(symbols=["AAPL"])
    node = venue.node(bot)

    async def scenario() -> None:
        await node.start()
        venue.bar(node)
        await sent(node)
        venue.trade(node)
        await until(lambda: node.fills == 1, what="the fill")
        node.kill("test")
        await sent(node)
        venue.trade(node)
        await until(lambda: bot.position("AAPL") == 0, what="the position to be flat")
        assert bot.buy("AAPL", 1).code == "kill_switch"
        await node.stop()

    asyncio.run(scenario())
    assert node.manager is not None
    limit = node.manager.order("buy_once-1")
    assert limit is not None
    assert limit.status is OrderStatus.CANCELED
    assert node.kernel is not None
    assert node.kernel.portfolio.qty("AAPL") == 0


def test_health_checks_report_each_bot_the_feed_the_broker_and_open_orders(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    registry = HealthRegistry()

    async def scenario() -> dict[str, list[HealthStatus]]:
        await node.start()
        register_node_checks(registry, node, loop=asyncio.get_running_loop())
        venue.bar(node)
        out: dict[str, list[HealthStatus]] = {}
        for check in registry.checks():
            found = await asyncio.to_thread(check.function)
            observations = found if isinstance(found, list) else [found]
            out[check.key] = [o.status for o in observations]  # type: ignore[union-attr]  # sync checks
        await node.stop()
        return out

    statuses = asyncio.run(scenario())
    assert statuses == {
        "node:strategies": [HealthStatus.PASS],
        "node:feed": [HealthStatus.PASS],
        "node:broker": [HealthStatus.PASS],
        "node:trading": [HealthStatus.PASS],
        "node:orders": [HealthStatus.PASS],
        "node:faults": [HealthStatus.PASS],
        "node:breakers": [HealthStatus.PASS],  # a simulated venue has none
        "node:rate_limits": [HealthStatus.PASS],  # a simulated venue is unpaced
    }


def test_a_throttled_key_is_a_warning_and_a_quiet_one_passes() -> None:
    now = [1_700_000_000.0]
    limiter = RateLimiter("k", limit=2, window_s=60.0, clock=lambda: now[0], sleep=lambda s: None)
    limiter.acquire()
    assert pace(limiter).status is HealthStatus.PASS
    assert pace(limiter).value == 1
    limiter.pause_until(now[0] + 30.0)  # the server answered 429
    warned = pace(limiter)
    assert warned.status is HealthStatus.WARN
    assert "throttled" in warned.output
    now[0] += 120.0
    assert pace(limiter).status is HealthStatus.PASS


def test_a_node_with_a_machine_learned_bot_reports_its_model(tmp_path: Path) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]), MlDirection(symbols=["AAPL"]))
    registry = HealthRegistry()
    loop = asyncio.new_event_loop()
    try:
        register_node_checks(registry, node, loop=loop)
        found = {c.key: c for c in registry.checks()}["node:models"].function()
    finally:
        loop.close()
    assert isinstance(found, list)
    # Not trained yet: no model may trade, which health says rather than hides.
    assert found[0].status is HealthStatus.WARN
    assert found[0].component_id == node.strategies[1].strategy_id


def test_what_lives_only_while_the_node_runs_is_one_session_built_at_start(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    assert node.session is None
    assert (node.kernel, node.manager, node.journal, node.router, node.run_id) == (None,) * 5
    sessions = []

    async def scenario() -> None:
        for _ in range(2):  # a restart of the same node builds a new session
            await node.start()
            sessions.append(node.session)
            venue.bar(node)
            await sent(node)
            await node.stop()

    asyncio.run(scenario())
    first, second = sessions
    assert first is not None
    assert second is not None
    assert first.run_id != second.run_id
    assert second.kernel is not first.kernel
    assert node.kernel is second.kernel  # kept after stop: the books stay readable
    for session in (first, second):
        assert None not in (
            session.journal, session.manager, session.router, session.kernel,
            session.kill_switch,
        )  # fmt: skip
    assert node.bars == 2
    # each session's kernel heard its own run's bar, and only that one
    assert first.kernel.prices.bars["AAPL"].ts < second.kernel.prices.bars["AAPL"].ts


def _checked(
    node: TradingNode, loop: asyncio.AbstractEventLoop, *, stale_after_s: float
) -> dict[str, list[Observation]]:
    """Every ``node@acct`` check run once (from a worker thread, as the runner does)."""
    registry = HealthRegistry()
    register_node_checks(
        registry, node, loop=loop, component="node@acct", stale_after_s=stale_after_s
    )
    out: dict[str, list[Observation]] = {}
    for check in registry.checks():
        found = check.function()
        out[check.key] = list(found) if isinstance(found, list) else [found]  # type: ignore[list-item]  # sync checks
    return out


def test_a_node_just_started_is_healthy_before_its_first_bar_and_not_after_its_market_open_wait(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)  # Monday 10:00 New York: the market is open
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    async def scenario() -> tuple[dict[str, list[Observation]], dict[str, list[Observation]]]:
        await node.start()
        loop = asyncio.get_running_loop()
        starting = await asyncio.to_thread(lambda: _checked(node, loop, stale_after_s=60))
        waited = await asyncio.to_thread(lambda: _checked(node, loop, stale_after_s=0))
        await node.stop()
        return starting, waited

    starting, waited = asyncio.run(scenario())
    (bot,) = starting["node@acct:strategies"]
    assert bot.status is HealthStatus.PASS
    assert "last decision never" in bot.output
    assert "(starting:" in bot.output
    assert starting["node@acct:feed"][0].status is HealthStatus.PASS
    # Past the start, with the market open and no bar: that bot stopped deciding.
    (bot,) = waited["node@acct:strategies"]
    assert bot.status is HealthStatus.WARN
    assert "no bar since start while its market is open" in bot.output
    assert waited["node@acct:feed"][0].status is HealthStatus.WARN


def test_no_bar_on_a_closed_market_is_not_stale(tmp_path: Path) -> None:
    venue = Venue(tmp_path)
    venue.clock = VenueClock(datetime(2024, 3, 9, 15, 0, tzinfo=UTC))  # a Saturday
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    async def scenario() -> dict[str, list[Observation]]:
        await node.start()
        loop = asyncio.get_running_loop()
        found = await asyncio.to_thread(lambda: _checked(node, loop, stale_after_s=0))
        await node.stop()
        return found

    found = asyncio.run(scenario())
    assert found["node@acct:strategies"][0].status is HealthStatus.PASS
    assert "(market closed)" in found["node@acct:strategies"][0].output
    assert found["node@acct:feed"][0].output == "no market data yet (market closed)"


def test_a_halted_node_fails_with_the_reason_and_passes_once_released(tmp_path: Path) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    async def scenario() -> list[Observation]:
        await node.start()
        seen = [trading(node)]
        node.kill("operator: fat finger")
        seen.append(trading(node))
        node.risk.release()
        seen.append(trading(node))
        await node.stop()
        return seen

    before, halted, released = asyncio.run(scenario())
    assert before.status is HealthStatus.PASS
    assert halted.status is HealthStatus.FAIL
    assert halted.output == "halted by the kill switch: operator: fat finger"
    assert released.status is HealthStatus.PASS


def test_node_health_names_its_checks_by_account_and_runs_them_on_demand(tmp_path: Path) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    async def scenario() -> SourceReport:
        await node.start()
        health = NodeHealth(node, account="acct", loop=asyncio.get_running_loop(), timeout=2)
        venue.bar(node)
        found = await health.collect()
        await node.stop()
        return found

    report = asyncio.run(scenario())
    assert report.shared
    assert report.breakers == {}  # a simulated venue has no breaker
    assert all(key.startswith("node@acct:") for key in report.checks)
    assert {r.status for r in report.checks.values()} == {HealthStatus.PASS}
