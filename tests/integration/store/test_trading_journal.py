"""The order journal on both backends: what the order manager relies on after a restart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockyard.core import (
    Fill,
    OrderClass,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from stockyard.resilience import DuplicateIntentError, StockyardError
from stockyard.store import Database, SqlOrderJournal, SqlRunStore, UnknownRunError

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@pytest.fixture
def journal(database: Database) -> SqlOrderJournal:
    run_id = SqlRunStore(database).start_run(mode="paper", strategies=["s1"], symbols=["AAPL"])
    return SqlOrderJournal(database, run_id=run_id)


def _intent(seq: int, *, strategy: str = "s1", **request: object) -> OrderIntent:
    fields: dict[str, object] = {"symbol": "AAPL", "side": OrderSide.BUY, "qty": Decimal(10)}
    fields.update(request)
    return OrderIntent(
        client_order_id=f"{strategy}-{seq}",
        strategy_id=strategy,
        sequence=seq,
        request=OrderRequest(**fields),  # type: ignore[arg-type]
        created_at=T0 + timedelta(seconds=seq),
    )


def _event(coid: str, status: OrderStatus | None, *, minutes: int = 0) -> OrderEvent:
    kind = OrderEventKind.UPDATE if status is not None else OrderEventKind.CANCEL_REQUESTED
    return OrderEvent(
        client_order_id=coid, kind=kind, status=status, timestamp=T0 + timedelta(minutes=minutes)
    )


def _fill(fill_id: str, coid: str, *, seconds: int = 0, qty: str = "1") -> Fill:
    return Fill(
        id=fill_id,
        order_id=f"broker-{coid}",
        client_order_id=coid,
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(qty),
        price=Decimal("187.2501"),
        timestamp=T0 + timedelta(seconds=seconds),
        fee=Decimal("0.0042"),
        cumulative_qty=Decimal(qty),
        leaves_qty=Decimal("0.000"),
    )


TRICKY = [
    Decimal("0.1"),
    Decimal("0.10"),
    Decimal("1.000000000000000000000000000001"),
    Decimal("12345678901234567890.123456789"),
    Decimal("0.00000001"),
    Decimal("1E-12"),
    Decimal("187.25"),
]


@pytest.mark.parametrize("value", TRICKY, ids=str)
def test_decimals_come_back_exactly_as_they_went_in(
    journal: SqlOrderJournal, value: Decimal
) -> None:
    intent = _intent(
        0, type=OrderType.LIMIT, qty=value, limit_price=value, time_in_force=TimeInForce.GTC
    )
    journal.record_intent(intent)
    journal.record_event(
        OrderEvent(
            client_order_id=intent.client_order_id,
            kind=OrderEventKind.UPDATE,
            status=OrderStatus.PARTIALLY_FILLED,
            timestamp=T0,
            filled_qty=value,
            filled_avg_price=value,
        )
    )
    journal.record_fill(_fill("f", intent.client_order_id, qty=str(value)), strategy_id="s1")
    [(stored, event)] = journal.intents()
    assert stored == intent
    assert str(stored.request.qty) == str(value)
    assert event is not None
    assert str(event.filled_qty) == str(event.filled_avg_price) == str(value)
    [fill] = journal.fills()
    assert str(fill.qty) == str(value)
    assert fill.fee == Decimal("0.0042")
    assert str(fill.leaves_qty) == "0.000"


def test_every_request_field_round_trips(journal: SqlOrderJournal) -> None:
    bracket = _intent(
        0,
        type=OrderType.STOP_LIMIT,
        limit_price=Decimal("101.5"),
        stop_price=Decimal("100.25"),
        extended_hours=True,
        order_class=OrderClass.BRACKET,
        take_profit_limit_price=Decimal("110"),
        stop_loss_stop_price=Decimal("95"),
        stop_loss_limit_price=Decimal("94.5"),
        client_order_id="s1-0",
    )
    trailing = _intent(1, side=OrderSide.SELL, type=OrderType.TRAILING_STOP, trail_percent=2)
    notional = _intent(2, qty=None, notional=Decimal("2500.00"))
    crypto = _intent(3, symbol="BTC/USD", qty=Decimal("0.00012345"), time_in_force=TimeInForce.IOC)
    for intent in (bracket, trailing, notional, crypto):
        journal.record_intent(intent)
    assert [i for i, _ in journal.intents()] == [bracket, trailing, notional, crypto]
    assert [e for _, e in journal.intents()] == [None] * 4


def test_a_duplicate_client_order_id_is_refused_and_nothing_changes(
    journal: SqlOrderJournal,
) -> None:
    first = _intent(0)
    journal.record_intent(first)
    again = _intent(0, qty=Decimal(999))
    with pytest.raises(DuplicateIntentError, match="s1-0") as caught:
        journal.record_intent(again)
    assert isinstance(caught.value, StockyardError)
    assert not caught.value.retryable
    assert journal.intents() == [(first, None)]


def test_an_intent_and_its_first_event_are_written_together_or_not_at_all(
    journal: SqlOrderJournal,
) -> None:
    sending = OrderEvent(
        client_order_id="s1-0", kind=OrderEventKind.SUBMITTING, status=None, timestamp=T0
    )
    journal.record_intent(_intent(0), first_event=sending)
    assert journal.intents(open_only=True) == [(_intent(0), sending)]
    again = OrderEvent(
        client_order_id="s1-0",
        kind=OrderEventKind.SUBMITTING,
        status=None,
        timestamp=T0 + timedelta(minutes=5),
    )
    with pytest.raises(DuplicateIntentError):
        journal.record_intent(_intent(0, qty=Decimal(3)), first_event=again)
    assert journal.intents() == [(_intent(0), sending)]  # the refused event is not there


def test_open_intents_are_those_whose_latest_event_is_not_terminal(
    journal: SqlOrderJournal,
) -> None:
    for seq in (0, 1, 2, 3, 4, 5):
        journal.record_intent(_intent(seq))
    journal.record_event(_event("s1-1", OrderStatus.NEW))
    journal.record_event(_event("s1-2", OrderStatus.NEW))
    journal.record_event(_event("s1-2", OrderStatus.FILLED, minutes=1))
    journal.record_event(_event("s1-3", OrderStatus.CANCELED))
    journal.record_event(_event("s1-3", None, minutes=1))  # status-less: ask the broker again
    journal.record_event(_event("s1-4", OrderStatus.FILLED))
    journal.record_event(_event("s1-4", OrderStatus.REPLACED, minutes=2))
    journal.record_event(_event("s1-4", OrderStatus.PENDING_NEW, minutes=3))
    journal.record_event(_event("s1-5", OrderStatus.REJECTED, minutes=9))
    journal.record_event(_event("s1-5", OrderStatus.NEW))  # recorded last, so it is the latest
    open_ = journal.intents(open_only=True)
    assert [(i.client_order_id, e and e.status) for i, e in open_] == [
        ("s1-0", None),  # never sent as far as we know: the broker must be asked
        ("s1-1", OrderStatus.NEW),
        ("s1-3", None),
        ("s1-4", OrderStatus.PENDING_NEW),
        ("s1-5", OrderStatus.NEW),
    ]
    everything = journal.intents()
    assert [i.client_order_id for i, _ in everything] == [f"s1-{n}" for n in range(6)]
    latest = {i.client_order_id: e for i, e in everything}
    assert latest["s1-2"] == _event("s1-2", OrderStatus.FILLED, minutes=1)


def test_intents_come_back_in_the_order_they_were_recorded(journal: SqlOrderJournal) -> None:
    late_first = _intent(9)
    early_second = _intent(1)
    journal.record_intent(late_first)
    journal.record_intent(early_second)
    assert [i for i, _ in journal.intents()] == [late_first, early_second]


def test_a_fill_is_recorded_once_even_when_threads_race_to_record_it(
    journal: SqlOrderJournal,
) -> None:
    journal.record_intent(_intent(0))
    fill = _fill("fill-1", "s1-0")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def record() -> None:
        barrier.wait()
        results.append(journal.record_fill(fill, strategy_id="s1"))

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert journal.fills() == [fill]


def test_fills_come_in_the_order_recorded_by_strategy_and_strictly_after_since(
    journal: SqlOrderJournal,
) -> None:
    journal.record_fill(_fill("c", "s2-0", seconds=30), strategy_id="s2")
    journal.record_fill(_fill("a", "s1-0", seconds=20), strategy_id="s1")
    journal.record_fill(_fill("b", "s1-1", seconds=10), strategy_id="s1")
    assert [f.id for f in journal.fills()] == ["c", "a", "b"]
    assert [f.id for f in journal.fills(strategy_id="s1")] == ["a", "b"]
    assert [f.id for f in journal.fills(since=T0 + timedelta(seconds=10))] == ["c", "a"]
    assert journal.fills(strategy_id="nobody") == []


def test_last_sequence_is_per_strategy_and_minus_one_when_none(
    journal: SqlOrderJournal,
) -> None:
    assert journal.last_sequence("s1") == -1
    for seq in (0, 1, 7, 3):
        journal.record_intent(_intent(seq))
    journal.record_intent(_intent(42, strategy="s2"))
    assert journal.last_sequence("s1") == 7
    assert journal.last_sequence("s2") == 42


def test_a_restarted_node_in_a_new_run_sees_the_orders_its_last_run_left(
    database: Database, journal: SqlOrderJournal
) -> None:
    journal.record_intent(_intent(0))
    journal.record_intent(_intent(1))
    journal.record_event(_event("s1-0", OrderStatus.FILLED))
    runs = SqlRunStore(database)
    later = SqlOrderJournal(
        database, run_id=runs.start_run(mode="paper", strategies=["s1"], symbols=["AAPL"])
    )
    assert [i.client_order_id for i, _ in later.intents(open_only=True)] == ["s1-1"]
    assert later.last_sequence("s1") == 1
    later.record_event(_event("s1-1", OrderStatus.CANCELED))
    later.record_intent(_intent(2))
    assert [i.client_order_id for i, _ in runs.intents(journal.run_id)] == ["s1-0", "s1-1"]
    assert [i.client_order_id for i, _ in runs.intents(later.run_id)] == ["s1-2"]
    assert later.intents(open_only=True)[0][0].client_order_id == "s1-2"


def test_a_journal_for_a_run_that_was_never_started_is_refused(database: Database) -> None:
    with pytest.raises(UnknownRunError, match="no run 'ghost'"):
        SqlOrderJournal(database, run_id="ghost")


def test_events_for_an_order_we_never_intended_are_kept(journal: SqlOrderJournal) -> None:
    journal.record_event(_event("adopted-from-broker", OrderStatus.NEW))
    journal.record_fill(_fill("x", "adopted-from-broker"), strategy_id="unknown")
    assert journal.intents() == []
    assert [f.client_order_id for f in journal.fills()] == ["adopted-from-broker"]
