"""InMemoryOrderJournal keeps the OrderJournal contract the SQL journal keeps too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockyard.core import (
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from stockyard.execution.oms import DuplicateIntentError, InMemoryOrderJournal, OrderJournal

T0 = datetime(2024, 7, 2, 14, 0, tzinfo=UTC)


def intent(coid: str, strategy: str, sequence: int) -> OrderIntent:
    request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(1))
    return OrderIntent(
        client_order_id=coid,
        strategy_id=strategy,
        sequence=sequence,
        request=request,
        created_at=T0,
    )


def event(coid: str, status: OrderStatus | None) -> OrderEvent:
    return OrderEvent(client_order_id=coid, kind=OrderEventKind.UPDATE, status=status, timestamp=T0)


def fill(fill_id: str, at: datetime) -> Fill:
    return Fill(
        id=fill_id,
        order_id="o",
        client_order_id="a-0",
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(1),
        price=Decimal(100),
        timestamp=at,
    )


def test_it_is_an_order_journal() -> None:
    assert isinstance(InMemoryOrderJournal(), OrderJournal)


def test_a_duplicate_intent_is_refused_and_changes_nothing() -> None:
    journal = InMemoryOrderJournal()
    journal.record_intent(intent("a-0", "a", 0))
    with pytest.raises(DuplicateIntentError, match="a-0"):
        journal.record_intent(intent("a-0", "a", 5))
    assert journal.last_sequence("a") == 0
    assert journal.last_sequence("nobody") == -1


def test_open_intents_are_those_whose_latest_event_is_not_terminal() -> None:
    journal = InMemoryOrderJournal()
    for i in range(3):
        journal.record_intent(intent(f"a-{i}", "a", i))
    journal.record_event(event("a-0", OrderStatus.NEW))
    journal.record_event(event("a-0", OrderStatus.FILLED))
    journal.record_event(event("a-1", None))
    rows = journal.intents(open_only=True)
    assert [(i.client_order_id, e and e.status) for i, e in rows] == [("a-1", None), ("a-2", None)]
    assert len(journal.intents()) == 3


def test_a_fill_is_recorded_once_and_filtered_by_strategy_and_time() -> None:
    journal = InMemoryOrderJournal()
    assert journal.record_fill(fill("f1", T0), strategy_id="a")
    assert not journal.record_fill(fill("f1", T0), strategy_id="a")
    assert journal.record_fill(fill("f2", T0 + timedelta(minutes=1)), strategy_id="b")
    assert [f.id for f in journal.fills()] == ["f1", "f2"]
    assert [f.id for f in journal.fills(strategy_id="b")] == ["f2"]
    assert [f.id for f in journal.fills(since=T0)] == ["f2"]
