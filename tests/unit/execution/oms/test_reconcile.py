"""Reconciliation on start and after a reconnect: orders that never arrived are resent once,
orders that arrived are adopted (never resent), missed fills are recorded once, unknown broker
orders are adopted, and positions are compared."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from memory_broker import Clock, MemoryBroker, make_manager

from stockyard.core import OrderEventKind, OrderRequest, OrderSide, OrderStatus, Position
from stockyard.execution.oms import (
    EXTERNAL_STRATEGY,
    InMemoryOrderJournal,
    OmsConfig,
    OrderManager,
    OrderPhase,
)


def buy(qty: str = "10") -> OrderRequest:
    return OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(qty))


def crashed_while_sending(*, arrived: bool) -> tuple[MemoryBroker, InMemoryOrderJournal]:
    """A node journaled ``bot-0``, started sending it and died before hearing back."""
    broker = MemoryBroker(Clock())
    journal = InMemoryOrderJournal()
    manager = OrderManager(broker=broker, journal=journal, clock=broker.clock)
    manager.start_sync()
    manager.prepare("bot", buy())
    broker.fail_submit = "after" if arrived else "before"
    assert asyncio.run(manager.send("bot-0")).phase is OrderPhase.UNKNOWN
    asyncio.run(manager.stop())
    return broker, journal


def restart(broker: MemoryBroker, journal: InMemoryOrderJournal, **config: object) -> OrderManager:
    manager = OrderManager(
        broker=broker,
        journal=journal,
        clock=broker.clock,
        config=OmsConfig(**config),  # type: ignore[arg-type]
    )
    return manager


def test_an_order_that_never_arrived_is_resent_once_with_the_same_id() -> None:
    broker, journal = crashed_while_sending(arrived=False)
    assert broker.book == {}
    assert len(broker.submits) == 1
    manager = restart(broker, journal)
    report = manager.start_sync()
    assert report.resubmitted == ("bot-0",)
    assert [r.client_order_id for r in broker.submits] == ["bot-0", "bot-0"]
    assert manager.order("bot-0").phase is OrderPhase.SUBMITTED  # type: ignore[union-attr]
    again = manager.start_sync()  # reconciling again finds it: nothing is sent
    assert again.resubmitted == ()
    assert len(broker.submits) == 2
    assert len(broker.book) == 1


def test_an_order_that_arrived_before_the_crash_is_adopted_not_resent() -> None:
    broker, journal = crashed_while_sending(arrived=True)
    assert len(broker.book) == 1
    manager = restart(broker, journal)
    report = manager.start_sync()
    assert report.adopted == ("bot-0",)
    assert report.resubmitted == ()
    assert len(broker.submits) == 1
    view = manager.order("bot-0")
    assert view is not None
    assert view.broker_order_id == "B1"
    assert view.status is OrderStatus.NEW
    assert journal.events("bot-0")[-1].kind is OrderEventKind.RECONCILED


def test_an_order_too_old_to_resend_is_given_up_and_ends_rejected() -> None:
    broker, journal = crashed_while_sending(arrived=False)
    broker.clock.tick(3600)
    manager = restart(broker, journal, resubmit_window=timedelta(minutes=5))
    report = manager.start_sync()
    assert report.given_up == ("bot-0",)
    assert len(broker.submits) == 1
    assert manager.order("bot-0").status is OrderStatus.REJECTED  # type: ignore[union-attr]
    assert journal.intents(open_only=True) == []


def test_fills_missed_while_away_are_recorded_once() -> None:
    manager, broker, journal = make_manager()
    manager.submit_sync("bot", buy())
    asyncio.run(manager.stop())
    broker.fill("bot-0", "4", "100", emit=False)
    broker.fill("bot-0", "6", "101", emit=False)
    fills: list[str] = []
    restarted = OrderManager(broker=broker, journal=journal, clock=broker.clock)
    restarted.add_fill_listener(lambda _s, f: fills.append(f.id))
    first = restarted.start_sync()
    second = restarted.start_sync()
    assert first.updated == ("bot-0",)
    assert first.fills_recorded == 2
    assert second.fills_recorded == 0
    assert second.corrections == 0
    assert fills == ["X1", "X2"]
    assert [f.id for f in journal.fills()] == ["X1", "X2"]
    assert restarted.order("bot-0").status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_an_order_the_broker_has_and_we_do_not_is_adopted_and_journaled() -> None:
    manager, broker, journal = make_manager()
    broker.put(
        OrderRequest(
            symbol="MSFT", side=OrderSide.SELL, qty=Decimal(3), client_order_id="manual-1x"
        )
    )
    report = manager.start_sync()
    assert report.adopted == ("manual-1x",)
    view = manager.order("manual-1x")
    assert view is not None
    assert view.strategy_id == EXTERNAL_STRATEGY
    intents = {i.client_order_id: (i, e) for i, e in journal.intents()}
    intent, event = intents["manual-1x"]
    assert intent.request.symbol == "MSFT"
    assert event is not None
    assert event.kind is OrderEventKind.RECONCILED


def test_an_unknown_order_shaped_like_ours_keeps_its_strategy_and_bumps_the_sequence() -> None:
    manager, broker, _ = make_manager()
    broker.put(
        OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(1), client_order_id="bot-4")
    )
    manager.start_sync()
    assert manager.order("bot-4").strategy_id == "bot"  # type: ignore[union-attr]
    assert manager.submit_sync("bot", buy()).client_order_id == "bot-5"


def test_positions_that_differ_from_our_fills_are_reported() -> None:
    manager, broker, _ = make_manager()
    manager.submit_sync("bot", buy())
    broker.fill("bot-0", "10", "100")
    broker.held = [Position(symbol="AAPL", qty=Decimal(12), avg_entry_price=Decimal(100))]
    report = manager.start_sync()
    assert report.position_differences == {"AAPL": (Decimal(10), Decimal(12))}


def test_a_reconnect_reconciles_and_picks_up_what_the_stream_missed() -> None:
    async def scenario() -> tuple[OrderStatus | None, int]:
        manager, broker, _ = make_manager()
        await manager.start()
        await manager.submit("bot", buy())
        broker.fill("bot-0", "10", "100", emit=False)  # lost while the stream was down
        broker.reconnect()
        report = await manager.settled()
        assert report is not None
        assert report.updated == ("bot-0",)
        view = manager.order("bot-0")
        return (None if view is None else view.status), manager.stats()["reconnects"]

    status, reconnects = asyncio.run(scenario())
    assert status is OrderStatus.FILLED
    assert reconnects == 1


def test_a_resend_that_never_reached_the_broker_does_not_use_up_the_resend() -> None:
    broker, journal = crashed_while_sending(arrived=False)
    manager = restart(broker, journal, submit_attempts=1)
    broker.fail_submit = "before"  # the resend dies on the way too (say, an open breaker)
    first = manager.start_sync()
    assert first.resubmitted == ("bot-0",)
    assert broker.book == {}
    assert manager.order("bot-0").phase is OrderPhase.UNKNOWN  # type: ignore[union-attr]
    second = manager.start_sync()  # the next pass tries again instead of giving up
    assert second.resubmitted == ("bot-0",)
    assert second.given_up == ()
    assert list(broker.book) == ["bot-0"]
    assert [r.client_order_id for r in broker.submits] == ["bot-0", "bot-0", "bot-0"]
