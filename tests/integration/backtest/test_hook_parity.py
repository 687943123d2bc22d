"""Parity by construction: one bot scripted through a broker's rejection, a resting order
and its cancel, and a market order filled between two bars sees the same hooks in the same
order in a sandbox session (a ``TradingNode``, alpaca-py against our exchange, stepped a
half minute at a time) and in the backtest of that session over the same bars; and one
scripted through partial fills and a cancel sees the same hooks on a ``TradingNode`` over a
``SimExchange`` (the live route, as event-loop tasks) and in the backtest of those bars.

The order route is one piece of code under both (``engine.OrderRoute``): a rejection is an
accepted submit followed by a ``rejected`` order update, live and in the backtest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from stockyard.backtest import (
    BacktestConfig,
    BarData,
    EventEngine,
    SymbolBars,
    live_vs_backtest,
    load_bars,
    load_session,
)
from stockyard.bus import InProcessBus
from stockyard.core import Bar, Fill, Order, OrderType, Timeframe, to_ns
from stockyard.data import MarketCalendar
from stockyard.data.feeds import AlpacaFeed
from stockyard.engine import NodeConfig, TradingNode
from stockyard.engine._node_clock import VenueClock
from stockyard.execution import Asset, ExchangeConfig, SimBroker, SimExchange
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.sandbox import SandboxConfig, SandboxServer
from stockyard.store import open_database
from stockyard.strategy import BarRow, Strategy

KEY, SECRET = "TESTKEY", "test-secret"
START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)  # Monday, 10:00 New York
MINUTES = 8
OHLCV = ("open", "high", "low", "close", "volume")
_QUIET = NodeConfig(snapshot_every_s=3600, status_every_s=3600, reconcile_every_s=3600)


class Script(Strategy):
    """On its 2nd bar an order far beyond buying power (the broker rejects it); on its 3rd
    a buy limit 7% below the market (inside risk's price band; it rests), canceled on its
    5th; on its 6th a market buy, filled by the next print (live) or the next bar's open
    (backtest). Every hook is written down with what both sides share (no ids of the
    venue, no prices or times)."""

    name = "script"

    def on_start(self) -> None:
        self.heard: list[tuple[object, ...]] = []
        self.seen = 0
        self.resting: str | None = None
        self.cancel_asked: set[str] = set()

    def on_bar(self, bar: BarRow) -> None:
        self.seen += 1
        self.heard.append(("bar", self.seen))
        if self.seen == 2:
            result = self.buy(bar.symbol, 1_000_000)
            self.heard.append(("submit", result.accepted, result.client_order_id))
        elif self.seen == 3:
            result = self.buy(bar.symbol, 5, limit=round(bar.close * 0.93, 2))
            self.resting = result.client_order_id
            self.heard.append(("submit", result.accepted, result.client_order_id))
        elif self.seen == 5 and self.resting is not None:
            result = self.cancel(self.resting)
            self.cancel_asked.add(self.resting)
            self.heard.append(("cancel", result.accepted))
        elif self.seen == 6:
            result = self.buy(bar.symbol, 10)
            self.heard.append(("submit", result.accepted, result.client_order_id))

    def on_order_update(self, order: Order) -> None:
        self.heard.append(("order", order.client_order_id, order.status.value))

    def on_fill(self, fill: Fill) -> None:
        self.heard.append(("fill", fill.client_order_id, str(fill.qty)))


async def _await(check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


def _settled(node: TradingNode, bot: Script) -> bool:
    """Nothing the node sent is still on its way: no send or cancel in flight, no market
    order open, no order open that the bot asked to cancel."""
    manager, router = node.manager, node.router
    if manager is None or router is None or router.in_flight:
        return False
    return not [
        m
        for m in manager.open_orders()
        if m.request.type is OrderType.MARKET or m.client_order_id in bot.cancel_asked
    ]


async def _trade(base_url: str, path: Path, step: Callable[[float], None]) -> tuple[str, Script]:
    bus = InProcessBus(registry=CollectorRegistry())
    broker = AlpacaBroker(key_id=KEY, secret_key=SECRET, base_url=base_url)
    feed = AlpacaFeed(
        bus=bus, key_id=KEY, secret_key=SECRET, stream_url="ws" + base_url.removeprefix("http"),
        name="sandbox",
    )  # fmt: skip
    bot = Script(symbols=["AAPL"])
    node = TradingNode(
        strategies=[bot], broker=broker, database=open_database(f"sqlite:///{path}"), bus=bus,
        feed=feed, clock=VenueClock(), venue_time=broker.venue_time, config=_QUIET,
    )  # fmt: skip
    await node.start()
    try:
        await _await(lambda: "AAPL" in feed.acknowledged, "the feed's subscription")
        for minute in range(1, MINUTES + 1):
            await asyncio.to_thread(step, 30)  # the next bar's first prints
            await _await(lambda: _settled(node, bot), "the fills")
            await asyncio.to_thread(step, 30)  # its close: the node hears the bar
            await _await(lambda m=minute: node.bars >= m and _settled(node, bot), "the bar")
    finally:
        await node.stop()
    assert node.run_id is not None
    return node.run_id, bot


def test_a_rejection_a_cancel_and_a_fill_between_bars_give_the_same_hooks_live_and_backtested(
    tmp_path: Path,
) -> None:
    config = SandboxConfig(
        key_id=KEY, secret_key=SECRET, port=0, symbols=("AAPL",), start=START, speed=0.0,
        cash=Decimal(100_000),
    )  # fmt: skip
    server = SandboxServer(config).start()

    def step(seconds: float) -> None:
        target = server.sandbox.clock.now() + timedelta(seconds=seconds)
        server.submit(server.sandbox.step_to(target)).result(60)

    try:
        step(120)
        run_id, live = asyncio.run(_trade(server.base_url, tmp_path / "state.db", step))
    finally:
        server.stop()
    with open_database(f"sqlite:///{tmp_path / 'state.db'}") as database:
        session = load_session(database, run_id)
    bars = load_bars(
        data=None, symbols=["AAPL"], timeframe=Timeframe.MINUTE,
        start=session.start - timedelta(minutes=1), end=session.end,
        store_root=tmp_path / "data", source="synthetic", seed=0,
    )  # fmt: skip
    tested = Script(symbols=["AAPL"])
    live_vs_backtest(session, bars, strategies=[tested])

    heard = [h for h in live.heard if h[0] != "bar" or h[1] <= MINUTES]
    assert ("order", "script-0", "rejected") in heard
    assert ("order", "script-1", "canceled") in heard
    assert ("fill", "script-2", "10") in heard
    assert tested.heard == heard


class Partial(Strategy):
    """On its 2nd bar a market buy of 250 that the venue fills 100 a bar (participation
    10% of 1,000 shares), then a resting limit canceled two bars later."""

    name = "partial"

    def on_start(self) -> None:
        self.heard: list[tuple[object, ...]] = []
        self.seen = 0
        self.resting: str | None = None

    def on_bar(self, bar: BarRow) -> None:
        self.seen += 1
        self.heard.append(("bar", self.seen))
        if self.seen == 2:
            result = self.buy(bar.symbol, 250)
            self.heard.append(("submit", result.accepted, result.client_order_id))
        elif self.seen == 6:
            result = self.buy(bar.symbol, 5, limit=round(bar.close * 0.95, 2))
            self.resting = result.client_order_id
            self.heard.append(("submit", result.accepted, result.client_order_id))
        elif self.seen == 8 and self.resting is not None:
            self.heard.append(("cancel", self.cancel(self.resting).accepted))

    def on_order_update(self, order: Order) -> None:
        self.heard.append(
            ("order", order.client_order_id, order.status.value, str(order.filled_qty))
        )

    def on_fill(self, fill: Fill) -> None:
        self.heard.append(("fill", fill.client_order_id, str(fill.qty), str(fill.price)))


_PARTIAL = ExchangeConfig(participation=0.1)
_CLOSES = [100.0, 100.2, 100.1, 100.4, 100.3, 100.6, 100.5, 100.7, 100.8, 100.9, 101.0]


def _bars() -> list[Bar]:
    return [
        Bar("AAPL", START + timedelta(minutes=i), c, c + 0.25, c - 0.25, c, 1_000.0)
        for i, c in enumerate(_CLOSES)
    ]


async def _node_session(tmp: Path) -> Partial:
    """The bot on a ``TradingNode`` over a ``SimExchange`` (the live event loop, the live
    order route driven as tasks); each bar meets the venue first, then the node."""
    clock = VenueClock(START)
    exchange = SimExchange(clock=clock.now, config=_PARTIAL, calendar=MarketCalendar.always_open())
    exchange.add_asset(Asset.stock("AAPL"))
    exchange.open_account("acct", cash=Decimal(100_000))
    bot = Partial(symbols=["AAPL"])
    node = TradingNode(
        strategies=[bot], broker=SimBroker(exchange, account_id="acct"),
        database=open_database(f"sqlite:///{tmp / 'state.db'}"),
        bus=InProcessBus(registry=CollectorRegistry()), clock=clock, config=_QUIET,
    )  # fmt: skip
    await node.start()
    try:
        for bar in _bars():
            clock.observe(bar.timestamp + timedelta(minutes=1))
            exchange.on_bar(bar)
            node.bus.publish("md.bar.AAPL", bar)
            await _await(lambda: node.router is not None and not node.router.in_flight, "sends")
    finally:
        await node.stop()
    return bot


def test_partial_fills_and_a_cancel_give_the_same_hooks_on_the_live_route_and_the_backtests(
    tmp_path: Path,
) -> None:
    live = asyncio.run(_node_session(tmp_path))
    rows = _bars()
    o, h, lo, c, v = (np.array([getattr(b, k) for b in rows]) for k in OHLCV)
    ts = np.array([to_ns(b.timestamp) for b in rows], dtype=np.int64)
    data = BarData(
        symbols=(SymbolBars(symbol="AAPL", ts=ts, open=o, high=h, low=lo, close=c, volume=v),),
        span_ns=60_000_000_000,
        timeframe=Timeframe.MINUTE,
    )
    tested = Partial(symbols=["AAPL"])
    EventEngine(data, [tested], BacktestConfig(exchange=_PARTIAL)).run()
    fills = [h for h in live.heard if h[0] == "fill"]
    assert [f[2] for f in fills] == ["100", "100", "50"]
    assert ("order", "partial-0", "partially_filled", "100") in live.heard
    assert ("order", "partial-1", "canceled", "0") in live.heard
    assert tested.heard == live.heard
