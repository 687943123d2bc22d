"""Group commit in the order journal (a live node's mode): events and fills are held until the
loop's turn ends, written in the order made, and always before the next intent; and SQLite's
log is checkpointed on the database's own thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from stockyard.core import (
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from stockyard.resilience import DuplicateIntentError
from stockyard.store import Database, SqlOrderJournal, SqlRunStore, open_database

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


class Turn:
    """An event loop's ``call_soon``, run by hand: the callbacks of one turn."""

    def __init__(self) -> None:
        self.due: list[Callable[[], None]] = []

    def __call__(self, callback: Callable[[], None]) -> None:
        self.due.append(callback)

    def end(self) -> None:
        due, self.due = self.due, []
        for callback in due:
            callback()


def _intent(seq: int) -> OrderIntent:
    request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(10))
    return OrderIntent(
        client_order_id=f"s1-{seq}",
        strategy_id="s1",
        sequence=seq,
        request=request,
        created_at=T0 + timedelta(seconds=seq),
    )


def _event(coid: str, status: OrderStatus, minute: int) -> OrderEvent:
    return OrderEvent(
        client_order_id=coid,
        kind=OrderEventKind.UPDATE,
        status=status,
        timestamp=T0 + timedelta(minutes=minute),
        broker_order_id=f"b-{coid}",
        filled_qty=Decimal(10) if status is OrderStatus.FILLED else Decimal(0),
    )


def _fill(coid: str) -> Fill:
    return Fill(
        id=f"b-{coid}:10",
        order_id=f"b-{coid}",
        client_order_id=coid,
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(10),
        price=Decimal("187.25"),
        timestamp=T0 + timedelta(minutes=1),
        cumulative_qty=Decimal(10),
        leaves_qty=Decimal(0),
    )


def _journals(database: Database, turn: Turn) -> tuple[SqlOrderJournal, SqlOrderJournal]:
    """The node's journal (group commit) and a reader's (another process's view)."""
    run_id = SqlRunStore(database).start_run(mode="paper", strategies=["s1"], symbols=["AAPL"])
    return (
        SqlOrderJournal(database, run_id=run_id, defer=turn),
        SqlOrderJournal(database, run_id=run_id),
    )


def _fills_on_disk(database: Database) -> list[str]:
    return [f.id for f in SqlOrderJournal(database, run_id=_any_run(database)).fills()]


def _any_run(database: Database) -> str:
    return SqlRunStore(database).runs()[0].id


def test_events_and_fills_are_committed_together_when_the_turn_ends(database: Database) -> None:
    turn = Turn()
    node, reader = _journals(database, turn)
    node.record_intent(_intent(0))
    node.record_event(_event("s1-0", OrderStatus.NEW, 0))
    assert node.record_fill(_fill("s1-0"), strategy_id="s1")
    node.record_event(_event("s1-0", OrderStatus.FILLED, 1))
    assert node.held == 3
    assert reader.intents() == [(_intent(0), None)]  # not on disk yet
    assert len(turn.due) == 1  # one flush for the whole turn
    commits = node.commits
    turn.end()
    assert node.held == 0
    assert node.commits == commits + 1
    assert reader.intents() == [(_intent(0), _event("s1-0", OrderStatus.FILLED, 1))]
    assert [f.id for f in reader.fills()] == ["b-s1-0:10"]


def test_the_next_intent_writes_what_is_held_first_in_the_same_transaction(
    database: Database,
) -> None:
    turn = Turn()
    node, reader = _journals(database, turn)
    node.record_intent(_intent(0))
    node.record_fill(_fill("s1-0"), strategy_id="s1")
    node.record_event(_event("s1-0", OrderStatus.FILLED, 1))
    commits = node.commits
    node.record_intent(_intent(1))  # before the turn ends
    assert node.commits == commits + 1
    assert node.held == 0
    latest = dict(reader.intents())
    assert latest[_intent(0)] == _event("s1-0", OrderStatus.FILLED, 1)
    assert latest[_intent(1)] is None
    turn.end()  # the flush it scheduled finds nothing left
    assert node.commits == commits + 1


def test_a_refused_duplicate_intent_still_commits_what_was_held(database: Database) -> None:
    turn = Turn()
    node, reader = _journals(database, turn)
    node.record_intent(_intent(0))
    node.record_event(_event("s1-0", OrderStatus.NEW, 0))
    with pytest.raises(DuplicateIntentError):
        node.record_intent(_intent(0))
    assert node.held == 0
    assert reader.intents() == [(_intent(0), _event("s1-0", OrderStatus.NEW, 0))]


def test_a_fill_held_or_recorded_before_is_refused_as_a_duplicate(database: Database) -> None:
    turn = Turn()
    node, _reader = _journals(database, turn)
    node.record_intent(_intent(0))
    assert node.record_fill(_fill("s1-0"), strategy_id="s1")
    assert not node.record_fill(_fill("s1-0"), strategy_id="s1")  # held
    turn.end()
    assert not node.record_fill(_fill("s1-0"), strategy_id="s1")  # on disk
    restarted = SqlOrderJournal(database, run_id=node.run_id, defer=turn)
    assert not restarted.record_fill(_fill("s1-0"), strategy_id="s1")  # a new process
    assert node.held == 0
    assert restarted.held == 0
    assert _fills_on_disk(database) == ["b-s1-0:10"]


def test_reads_see_what_is_held(database: Database) -> None:
    turn = Turn()
    node, _reader = _journals(database, turn)
    node.record_intent(_intent(0))
    node.record_fill(_fill("s1-0"), strategy_id="s1")
    node.record_event(_event("s1-0", OrderStatus.FILLED, 1))
    assert [f.id for f in node.fills()] == ["b-s1-0:10"]
    assert node.intents(open_only=True) == []  # filled: no longer open


def test_sqlite_checkpoints_on_its_own_thread_and_stops_with_the_database(
    tmp_path: Path,
) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'state.db'}")
    checkpointer = database.checkpointer
    assert checkpointer is not None
    run_id = SqlRunStore(database).start_run(mode="paper", strategies=["s1"], symbols=["AAPL"])
    journal = SqlOrderJournal(database, run_id=run_id)
    for seq in range(200):
        journal.record_intent(_intent(seq))
    deadline = time.monotonic() + 10
    while checkpointer.checkpoints == 0:
        assert time.monotonic() < deadline, "the log was never checkpointed"
        time.sleep(0.01)
    database.dispose()
    assert not checkpointer.running


def test_an_in_memory_sqlite_database_has_no_checkpointer() -> None:
    database = open_database("sqlite://")
    assert database.checkpointer is None
    database.dispose()


def _rename(database: Database, old: str, new: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_a_failed_group_commit_keeps_the_records_says_so_and_tells_its_listeners(
    database: Database,
) -> None:
    turn = Turn()
    node, reader = _journals(database, turn)
    heard: list[int] = []
    node.failure_listeners.append(lambda _exc, held: heard.append(held))
    node.record_intent(_intent(0))
    node.record_event(_event("s1-0", OrderStatus.NEW, 0))
    _rename(database, "order_events", "order_events_away")  # the commit will fail
    turn.end()
    assert (node.held, node.failed_commits, heard) == (1, 1, [1])
    assert node.last_failure is not None
    _rename(database, "order_events_away", "order_events")
    node.flush()
    assert (node.held, node.last_failure) == (0, None)
    assert reader.intents() == [(_intent(0), _event("s1-0", OrderStatus.NEW, 0))]
