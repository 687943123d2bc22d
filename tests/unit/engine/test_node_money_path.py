"""Faults on the live node's money path are never only logged: a fill listener that raises,
a kill-switch flatten that fails, a reconciliation that fails after a reconnect and journal
records held after a failed commit are each recorded in the error registry, shown failing
by ``node:faults`` (which the default alert rules raise as critical) and handed to the
node's fault listeners; a listener fault trips the kill switch unless configured off.
Each fault is injected through our own interfaces: a listener, a strategy, a broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from stockyard.bus import InProcessBus
from stockyard.core import Bar, Fill, Position, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import NodeConfig, TradingNode, VenueClock
from stockyard.engine._node_health import faults
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.health import HealthStatus
from stockyard.resilience import MoneyPathError
from stockyard.store import open_database
from stockyard.strategy import BarRow, Strategy, SubmitResult

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


class BuyOnce(Strategy):
    name = "buy_once"

    def on_bar(self, bar: BarRow) -> None:
        if not self.state.get("bought"):
            self.state["bought"] = True
            self.buy(bar.symbol, 10)


class CannotFlatten(BuyOnce):
    name = "cannot_flatten"

    def close_all(self) -> list[SubmitResult]:
        raise RuntimeError("flatten broke")


class BrokenBroker(SimBroker):
    """A SimBroker whose position reads fail once ``broken`` is set (a venue that drops
    the connection again right after a reconnect)."""

    broken = False

    async def positions(self) -> list[Position]:
        if self.broken:
            raise ConnectionError("positions: connection reset")
        return await super().positions()


class Venue:
    def __init__(self, tmp: Path) -> None:
        self.clock = VenueClock(START)
        self.exchange = SimExchange(clock=self.clock.now, calendar=MarketCalendar.always_open())
        self.exchange.add_asset(Asset.stock("AAPL"))
        self.exchange.open_account("acct", cash=Decimal(100_000))
        self.broker = BrokenBroker(self.exchange, account_id="acct")
        self.database = open_database(f"sqlite:///{tmp / 'state.db'}")

    def node(self, strategy: Strategy, *, halt: bool = True) -> TradingNode:
        return TradingNode(
            strategies=[strategy],
            broker=self.broker,
            database=self.database,
            bus=InProcessBus(registry=CollectorRegistry()),
            clock=self.clock,
            config=NodeConfig(tick_s=0.05, halt_on_listener_error=halt),
        )

    async def buy_and_fill(self, node: TradingNode) -> None:
        """A bar (the bot buys on it), then a print that fills the market order."""
        await self.buy(node)
        self.fill()

    async def buy(self, node: TradingNode) -> None:
        bar = Bar("AAPL", START, 100.0, 100.5, 99.5, 100.0, 1_000.0)
        self.exchange.on_bar(bar)
        node.bus.publish("md.bar.AAPL", bar)
        await until(lambda: node.router is not None and not node.router.in_flight, "the send")

    def fill(self) -> None:
        at = START + timedelta(minutes=1, seconds=1)
        self.clock.observe(at)
        self.exchange.on_trade(Trade("AAPL", at, 100.0, 1_000.0))


async def until(check: Callable[[], object], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


def run(node: TradingNode, scenario: Callable[[], Coroutine[object, object, None]]) -> None:
    async def main() -> None:
        await node.start()
        try:
            await scenario()
        finally:
            await node.stop()

    asyncio.run(main())


def test_a_fill_listener_that_raises_is_recorded_alerted_and_trips_the_kill_switch(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    alerted: list[MoneyPathError] = []
    node.fault_listeners.append(alerted.append)

    def broken(_strategy_id: str, _fill: Fill) -> None:
        raise ValueError("listener bug")

    async def scenario() -> None:
        assert node.manager is not None
        node.manager.add_fill_listener(broken)
        await venue.buy_and_fill(node)
        await until(lambda: node.risk.kill_reason is not None, "the kill switch")
        assert faults(node).status is HealthStatus.FAIL

    run(node, scenario)
    [fault] = node.faults
    assert "broken" in fault.message  # the listener
    assert "buy_once-0" in fault.message  # the fill's order
    assert "listener bug" in fault.message
    assert alerted == [fault]
    assert any("listener bug" in record.message for record in node.errors.recent())
    assert (node.risk.kill_reason or "").startswith("money path fault")
    assert node.kernel is not None
    assert node.kernel.portfolio.qty("AAPL") == 10  # the fill itself was booked


def test_with_the_setting_off_a_listener_fault_is_recorded_but_trading_goes_on(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]), halt=False)

    def broken(_strategy_id: str, _fill: Fill) -> None:
        raise ValueError("listener bug")

    async def scenario() -> None:
        assert node.manager is not None
        node.manager.add_fill_listener(broken)
        await venue.buy_and_fill(node)
        await until(lambda: node.faults, "the fault")

    run(node, scenario)
    assert node.risk.kill_reason is None


def test_a_kill_switch_flatten_that_fails_is_recorded_and_shown_in_health(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(CannotFlatten(symbols=["AAPL"]))

    async def scenario() -> None:
        await venue.buy_and_fill(node)
        await until(lambda: node.fills == 1, "the fill")
        node.kill("test")
        assert faults(node).status is HealthStatus.FAIL

    run(node, scenario)
    [fault] = node.faults
    assert "flattening 'cannot_flatten' failed" in fault.message
    assert "flatten broke" in fault.message


def test_a_reconciliation_that_fails_after_a_reconnect_is_recorded_and_shown_in_health(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    async def scenario() -> None:
        venue.broker.broken = True
        node.on_reconnect()  # what the broker's stream tells its listeners
        await until(lambda: node.faults, "the fault")
        assert faults(node).status is HealthStatus.FAIL
        venue.broker.broken = False

    run(node, scenario)
    [fault] = node.faults
    assert "reconciliation after a broker reconnect failed" in fault.message
    assert "connection reset" in fault.message


def test_journal_records_held_after_a_failed_commit_are_a_fault_shown_in_health(
    tmp_path: Path,
) -> None:
    venue = Venue(tmp_path)
    node = venue.node(BuyOnce(symbols=["AAPL"]))

    def rename(old: str, new: str) -> None:
        with venue.database.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    async def scenario() -> None:
        await venue.buy(node)  # the intent and its events are written
        rename("order_events", "order_events_away")  # the fill's group commit fails
        venue.fill()
        await until(lambda: node.faults, "the fault")
        observed = faults(node)
        assert observed.status is HealthStatus.FAIL
        assert "records held after a failed commit" in observed.output
        rename("order_events_away", "order_events")

    run(node, scenario)
    assert "order journal: group commit failed" in node.faults[0].message
    assert node.journal is not None
    assert node.journal.held == 0  # written at stop, once the table was back
