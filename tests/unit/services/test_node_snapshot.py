"""Reads of a node in another thread from its snapshot: a fill is in the positions read
at most ``max_age_s`` after the node processed it, a verb's caller reads what it did, and
the node's loop stops rebuilding once reads stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.config import RiskSettings
from stockyard.core import Bar, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import NodeConfig, NodeThread, TradingNode, VenueClock
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.services import AccountView, KillState, LocalNodeClient, PositionsView
from stockyard.services._node_snapshot import MAX_AGE_S, ReadSnapshot, Snapshot
from stockyard.store import open_database
from stockyard.strategy import BarRow, Strategy

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


class BuyOnce(Strategy):
    """Buys 7 on its first bar (market)."""

    name = "snap_buy_once"

    def on_bar(self, bar: BarRow) -> None:
        if not self.state.get("bought"):
            self.state["bought"] = True
            self.buy(bar.symbol, 7)


class Threaded:
    """A node trading on an in-process venue, on a loop of its own."""

    def __init__(self, tmp: Path) -> None:
        self.clock = VenueClock(START)
        self.exchange = SimExchange(clock=self.clock.now, calendar=MarketCalendar.always_open())
        self.exchange.add_asset(Asset.stock("AAPL"))
        self.exchange.open_account("acct", cash=Decimal(100_000))
        self.node = TradingNode(
            strategies=[BuyOnce(symbols=["AAPL"])],
            broker=SimBroker(self.exchange, account_id="acct"),
            database=open_database(f"sqlite:///{tmp / 'state.db'}"),
            bus=InProcessBus(registry=CollectorRegistry()),
            clock=self.clock,
            risk=RiskSettings(max_order_qty=Decimal(1000)),
            config=NodeConfig(tick_s=0.05),
        )
        self.thread = NodeThread(self.node).start()
        assert self.thread.loop is not None
        self.loop = self.thread.loop

    def publish(self, topic: str, message: object) -> None:
        self.loop.call_soon_threadsafe(self.node.bus.publish, topic, message)

    def bar(self) -> None:
        bar = Bar("AAPL", START, 100.0, 100.5, 99.5, 100.0, 1_000.0)
        self.exchange.on_bar(bar)
        self.publish("md.bar.AAPL", bar)

    def trade(self) -> None:
        at = START + timedelta(seconds=61)
        self.clock.observe(at)
        trade = Trade("AAPL", at, 100.0, 1_000.0)
        self.exchange.on_trade(trade)
        self.publish("md.trade.AAPL", trade)


@pytest.fixture
def threaded(tmp_path: Path) -> Iterator[Threaded]:
    made = Threaded(tmp_path)
    try:
        yield made
    finally:
        made.thread.stop()


async def until(check: Callable[[], object], *, what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.0005)


def test_a_fill_is_in_the_positions_read_at_most_max_age_after_it_was_processed(
    threaded: Threaded,
) -> None:
    client = LocalNodeClient(threaded.node, loop=threaded.loop)
    assert client.reads is not None

    async def scenario() -> None:
        assert (await client.positions()).positions == []
        threaded.bar()
        for _ in range(10_000):  # the bot's order acknowledged by the venue
            orders = (await client.orders()).orders
            if orders and orders[0].status == "new":
                break
            await asyncio.sleep(0.001)
        threaded.trade()
        seen: float | None = None  # when this thread first saw the fill processed
        deadline = time.monotonic() + 10
        while True:
            if seen is None and threaded.node.fills:
                seen = time.monotonic()
            started = time.monotonic()
            positions = (await client.positions()).positions
            if positions:
                break
            # An empty answer was built before the fill, so before ``seen``; it was at most
            # MAX_AGE_S old when served, so this read started within MAX_AGE_S of ``seen``.
            assert seen is None or started <= seen + MAX_AGE_S
            assert time.monotonic() < deadline, "the fill never showed"
            await asyncio.sleep(0.0005)
        assert [(p.symbol, p.qty) for p in positions] == [("AAPL", Decimal(7))]
        assert client.reads is not None
        assert client.reads.served > 0  # reads came from the snapshot, not a hand-over

    asyncio.run(scenario())


def test_a_verb_drops_the_snapshot_so_its_caller_reads_what_it_did(threaded: Threaded) -> None:
    client = LocalNodeClient(threaded.node, loop=threaded.loop)
    reads = client.reads
    assert reads is not None

    async def scenario() -> None:
        assert (await client.account()).kill.halted is False
        await until(lambda: reads.fresh() is not None, what="a fresh snapshot")
        assert (await client.halt("test", flatten=False)).halted is True
        assert (await client.account()).kill.halted is True
        assert (await client.reset()).halted is False
        assert (await client.account()).kill.halted is False

    asyncio.run(scenario())


def _snapshot(at: float) -> Snapshot:
    account = AccountView(
        node="n",
        mode="paper",
        run_id=None,
        cash=Decimal(1),
        equity=Decimal(1),
        realized_pl=Decimal(0),
        unrealized_pl=Decimal(0),
        long_exposure=Decimal(0),
        short_exposure=Decimal(0),
        gross_exposure=Decimal(0),
        net_exposure=Decimal(0),
        open_orders=0,
        kill=KillState(halted=False, reason=None, daily_halt=None),
    )
    return Snapshot(at=at, positions=PositionsView(node="n", positions=[]), account=account)


def test_the_node_loop_rebuilds_while_reads_come_and_stops_after_idle() -> None:
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        reads = ReadSnapshot(_snapshot, loop, max_age_s=0.05, refresh_s=0.001, idle_s=0.05)
        assert reads.fresh() is None  # nothing built yet; the rebuilding starts
        deadline = time.monotonic() + 10
        while reads.built < 5:
            reads.fresh()
            assert time.monotonic() < deadline, "no rebuilding"
            time.sleep(0.001)
        assert reads.fresh() is not None
        while reads.ticking:
            assert time.monotonic() < deadline + 10, "the rebuilding did not stop"
            time.sleep(0.01)
        built = reads.built
        time.sleep(0.1)  # idle: nothing is rebuilt (it was, above, while reads came)
        assert reads.built == built
        assert reads.fresh() is None  # stale by now: never served
        assert reads.ticking  # and that read restarted the rebuilding
        with pytest.raises(ValueError, match="refresh_s"):
            ReadSnapshot(_snapshot, loop, max_age_s=0.001, refresh_s=0.002)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()
