"""Crash safety of the journal's write order: a fill is journaled before the state that counts
it, so a kill between any two writes never leaves a terminal order without its fill (a
terminal order is never read back from the journal, so its fill would never be fetched
again). Each scenario is run once to count its writes, then killed after each of them in
turn; a new order manager on the same journal must end with every fill recorded once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from memory_broker import Clock, MemoryBroker

from stockyard.core import Fill, OrderEvent, OrderIntent, OrderRequest, OrderSide, OrderStatus
from stockyard.execution import BrokerCapabilities
from stockyard.execution.oms import InMemoryOrderJournal, ManagedOrder, OrderManager


class Killed(BaseException):
    """kill -9: nothing in the process catches it (it is not an ``Exception``)."""


class DyingJournal:
    """An ``OrderJournal`` that dies right after its ``die_after``-th write once armed."""

    def __init__(self, inner: InMemoryOrderJournal) -> None:
        self.inner = inner
        self.writes = 0
        self.die_after: int | None = None

    def _wrote(self) -> None:
        self.writes += 1
        if self.die_after is not None and self.writes >= self.die_after:
            raise Killed

    def record_intent(self, intent: OrderIntent, *, first_event: OrderEvent | None = None) -> None:
        self.inner.record_intent(intent, first_event=first_event)
        self._wrote()

    def record_event(self, event: OrderEvent) -> None:
        self.inner.record_event(event)
        self._wrote()

    def record_fill(self, fill: Fill, *, strategy_id: str) -> bool:
        new = self.inner.record_fill(fill, strategy_id=strategy_id)
        if new:
            self._wrote()
        return new

    def intents(self, *, open_only: bool = False) -> list[tuple[OrderIntent, OrderEvent | None]]:
        return self.inner.intents(open_only=open_only)

    def fills(self, *, strategy_id: str | None = None, since: datetime | None = None) -> list[Fill]:
        return self.inner.fills(strategy_id=strategy_id, since=since)

    def last_sequence(self, strategy_id: str) -> int:
        return self.inner.last_sequence(strategy_id)


class StreamingBroker(MemoryBroker):
    """The memory broker as a network venue: the manager awaits it on an event loop."""

    @property
    def capabilities(self) -> BrokerCapabilities:
        return BrokerCapabilities(name="memory-net", synchronous=False)


def buy(qty: str = "10", coid: str | None = None) -> OrderRequest:
    return OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(qty), client_order_id=coid)


def _missed_fill_reconciled_on_restart(m: OrderManager, b: MemoryBroker) -> None:
    m.submit_sync("bot", buy())
    b.listeners.clear()  # the node is down
    b.fill("bot-0", "10", "100", emit=False)
    restarted = OrderManager(broker=b, journal=m.journal, clock=b.clock)
    restarted.start_sync()


def _missed_fill_reconciled_after_a_reconnect(m: OrderManager, b: MemoryBroker) -> None:
    m.submit_sync("bot", buy())
    b.fill("bot-0", "4", "100", emit=False)  # lost while the stream was down
    b.fill("bot-0", "6", "101", emit=False)
    asyncio.run(m.reconcile())


def _fill_on_the_stream(m: OrderManager, b: MemoryBroker) -> None:
    m.submit_sync("bot", buy())
    b.fill("bot-0", "4", "100")
    b.fill("bot-0", "6", "101")


def _unknown_order_filled_on_the_stream(m: OrderManager, b: MemoryBroker) -> None:
    b.put(buy(coid="manual-7x"))
    b.fill("manual-7x", "10", "100")


def _cancel_after_a_missed_partial_fill(m: OrderManager, b: MemoryBroker) -> None:
    m.submit_sync("bot", buy())
    b.fill("bot-0", "4", "100", emit=False)  # missed: the canceled update counts it
    m.cancel_sync("bot-0")


def _filled_order_found_on_cancel(m: OrderManager, b: MemoryBroker) -> None:
    m.prepare("bot", buy())
    b.fail_submit = "after"
    asyncio.run(m.send("bot-0"))  # arrival unknown
    b.listeners.clear()  # and the stream is down
    b.fill("bot-0", "10", "100", emit=False)
    m.cancel_sync("bot-0")


def _unknown_open_order_partly_filled_adopted(m: OrderManager, b: MemoryBroker) -> None:
    b.put(buy(coid="manual-3x"))
    b.fill("manual-3x", "4", "100", emit=False)
    m.start_sync()


@dataclass(frozen=True)
class Scenario:
    drive: Callable[[OrderManager, MemoryBroker], None]
    coid: str
    status: OrderStatus


SCENARIOS = {
    "missed fill, reconciled on restart": Scenario(
        _missed_fill_reconciled_on_restart, "bot-0", OrderStatus.FILLED
    ),
    "missed fills, reconciled after a reconnect": Scenario(
        _missed_fill_reconciled_after_a_reconnect, "bot-0", OrderStatus.FILLED
    ),
    "fills on the stream": Scenario(_fill_on_the_stream, "bot-0", OrderStatus.FILLED),
    "unknown order filled on the stream": Scenario(
        _unknown_order_filled_on_the_stream, "manual-7x", OrderStatus.FILLED
    ),
    "cancel after a missed partial fill": Scenario(
        _cancel_after_a_missed_partial_fill, "bot-0", OrderStatus.CANCELED
    ),
    "filled order found on cancel": Scenario(
        _filled_order_found_on_cancel, "bot-0", OrderStatus.FILLED
    ),
    "unknown open order, partly filled, adopted": Scenario(
        _unknown_open_order_partly_filled_adopted, "manual-3x", OrderStatus.PARTIALLY_FILLED
    ),
}


def _run(scenario: Scenario, die_after: int | None) -> tuple[MemoryBroker, DyingJournal, bool]:
    broker = MemoryBroker(Clock())
    journal = DyingJournal(InMemoryOrderJournal())
    OrderManager(broker=broker, journal=journal, clock=broker.clock).start_sync()
    manager = OrderManager(broker=broker, journal=journal, clock=broker.clock)
    manager.start_sync()
    journal.writes, journal.die_after = 0, die_after
    try:
        scenario.drive(manager, broker)
    except Killed:
        broker.listeners.clear()  # the process is gone
        return broker, journal, True
    return broker, journal, False


def _agrees_with_the_broker(broker: MemoryBroker, journal: DyingJournal, coid: str) -> str:
    """Fails unless the journal holds the broker's fills of ``coid`` once each and its state;
    answers that state."""
    at_broker = sorted(f.id for f in broker.executions if f.client_order_id == coid)
    ours = [f for f in journal.fills() if f.client_order_id == coid]
    assert sorted(f.id for f in ours) == at_broker
    latest = {i.client_order_id: e for i, e in journal.intents()}[coid]
    assert latest is not None
    assert latest.status is broker.book[coid].status
    assert latest.filled_qty == sum((f.qty for f in ours), Decimal(0))
    return latest.status.value


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_crash_between_any_two_journal_writes_never_loses_a_fill(name: str) -> None:
    scenario = SCENARIOS[name]
    broker, counted, died = _run(scenario, None)
    assert not died
    assert _agrees_with_the_broker(broker, counted, scenario.coid) == scenario.status.value
    ended: list[str] = []
    for die_after in range(1, counted.writes + 1):
        broker, journal, died = _run(scenario, die_after)
        assert died, f"no crash after write {die_after}"
        journal.die_after = None
        restarted = OrderManager(broker=broker, journal=journal, clock=broker.clock)
        restarted.start_sync()
        restarted.start_sync()  # reconciling again changes nothing
        ended.append(_agrees_with_the_broker(broker, journal, scenario.coid))
    # The kills after the broker's fill, its fill and state among them, end in that state.
    assert ended[-2:] == [scenario.status.value] * 2, ended


def test_every_fill_is_journaled_and_heard_before_the_state_that_counts_it() -> None:
    broker = MemoryBroker(Clock())
    inner = InMemoryOrderJournal()
    manager = OrderManager(broker=broker, journal=inner, clock=broker.clock)
    heard: list[str] = []
    manager.add_fill_listener(lambda _s, f: heard.append(f"fill {f.qty}"))
    manager.add_update_listener(lambda o: heard.append(f"{o.status} {o.filled_qty}"))
    manager.start_sync()
    manager.submit_sync("bot", buy())
    broker.fill("bot-0", "4", "100", emit=False)
    broker.fill("bot-0", "6", "101", emit=False)
    heard.clear()
    manager.start_sync()
    assert heard == ["fill 4", "fill 6", "filled 10"]


def test_an_update_counting_missed_fills_waits_for_them_on_an_event_loop() -> None:
    async def scenario() -> tuple[list[str], ManagedOrder | None]:
        broker = StreamingBroker(Clock())
        journal = InMemoryOrderJournal()
        manager = OrderManager(broker=broker, journal=journal, clock=broker.clock)
        await manager.start()
        await manager.submit("bot", buy())
        broker.fill("bot-0", "4", "100", emit=False)  # missed
        done = broker.fill("bot-0", "6", "101")  # heard: the update counts 10
        held = manager.order("bot-0")
        assert held is not None
        assert held.status is OrderStatus.NEW  # held back until the missed fill is in
        assert [f.id for f in journal.fills()] == [done.id]
        await manager.settled()
        return [f.id for f in journal.fills()], manager.order("bot-0")

    fills, view = asyncio.run(scenario())
    assert sorted(fills) == ["X1", "X2"]
    assert view is not None
    assert view.status is OrderStatus.FILLED
    assert view.filled_qty == Decimal(10)


def test_a_filled_leg_reported_inside_its_parent_waits_for_its_fill() -> None:
    broker = MemoryBroker(Clock())
    journal = InMemoryOrderJournal()
    manager = OrderManager(broker=broker, journal=journal, clock=broker.clock)
    manager.start_sync()
    manager.submit_sync("bot", buy())
    broker.put(buy(coid="bot-0-tp"))
    broker.fill("bot-0-tp", "10", "105", emit=False)
    broker.book["bot-0"] = dataclasses.replace(
        broker.book["bot-0"], legs=(broker.book["bot-0-tp"],)
    )
    broker.fill("bot-0", "10", "100")  # the parent's update shows the leg filled
    leg = manager.order("bot-0-tp")
    assert leg is not None
    assert leg.strategy_id == "bot"
    assert leg.status is None  # its state waits for its fill
    assert [i.client_order_id for i, _ in journal.intents(open_only=True)] == ["bot-0-tp"]
    manager.start_sync()
    assert sorted(f.client_order_id for f in journal.fills()) == ["bot-0", "bot-0-tp"]
    latest = {i.client_order_id: e for i, e in journal.intents()}["bot-0-tp"]
    assert latest is not None
    assert latest.status is OrderStatus.FILLED
