"""The order journal in SQL: intents before they are sent, then every event and fill.

``SqlOrderJournal`` implements ``stockyard.execution.oms``'s ``OrderJournal`` protocol
structurally (the store sits below execution and cannot import it). Reads span every run:
client order ids and sequences are global, so a restarted node (a new run) finds the orders
a previous run left open.

Durability. By default every ``record_*`` commits before it returns. A live node opens the
journal with ``defer`` (its event loop's ``call_soon``) for *group commit*: events and fills
are held and committed together once the loop finishes what it is doing — at the latest
before its next turn, and always before (in the same transaction as) the next intent. The
order the records were made in is the order they are written in, so the crash-safety rules
still hold: an intent is durable before its order leaves, a fill before the state that
counts it. A crash can lose only the tail of one loop turn's events and fills, which the
restarted node's reconciliation fetches again from the broker, as after any crash.

A group commit that fails is never only logged: the records stay held, in order, for the
next write; ``failed_commits`` and ``last_failure`` say so (the node's health shows them),
and every ``failure_listeners`` callback hears of it with the number of records held (the
node records it as a money-path fault and alerts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import aliased

from stockyard.core import (
    TERMINAL_STATUSES,
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
from stockyard.obs import get_logger
from stockyard.resilience import DuplicateIntentError
from stockyard.store._db import Database
from stockyard.store._driver import DriverStatement, driver_transaction
from stockyard.store._errors import UnknownRunError
from stockyard.store._sql import dialect_insert
from stockyard.store._trading_models import FillRow, OrderEventRow, OrderIntentRow, RunRow

__all__ = ["SqlOrderJournal"]

_log = get_logger("store")
Defer = Callable[[Callable[[], None]], object]

_TERMINAL = sorted(s.value for s in TERMINAL_STATUSES)


def _written(table: type[OrderIntentRow | OrderEventRow | FillRow], generated: str) -> list[str]:
    """The columns a row of ``table`` is written with: all but the one the database numbers."""
    return [c.key for c in table.__table__.columns if c.key != generated]


_INTENT_KEYS = _written(OrderIntentRow, "seq")
_EVENT_KEYS = _written(OrderEventRow, "id")
_FILL_KEYS = _written(FillRow, "seq")


def intent_row(intent: OrderIntent, run_id: str) -> dict[str, object]:
    """The ``order_intents`` columns of ``intent``."""
    r = intent.request
    return {
        "client_order_id": intent.client_order_id,
        "run_id": run_id,
        "strategy_id": intent.strategy_id,
        "sequence": intent.sequence,
        "created_at": intent.created_at,
        "symbol": r.symbol,
        "side": r.side.value,
        "qty": r.qty,
        "notional": r.notional,
        "type": r.type.value,
        "time_in_force": r.time_in_force.value,
        "limit_price": r.limit_price,
        "stop_price": r.stop_price,
        "trail_price": r.trail_price,
        "trail_percent": r.trail_percent,
        "extended_hours": r.extended_hours,
        "order_class": r.order_class.value,
        "take_profit_limit_price": r.take_profit_limit_price,
        "stop_loss_stop_price": r.stop_loss_stop_price,
        "stop_loss_limit_price": r.stop_loss_limit_price,
        "request_client_order_id": r.client_order_id,
    }


def to_intent(row: OrderIntentRow) -> OrderIntent:
    """The ``OrderIntent`` a row holds."""
    request = OrderRequest(
        symbol=row.symbol,
        side=OrderSide(row.side),
        qty=row.qty,
        notional=row.notional,
        type=OrderType(row.type),
        time_in_force=TimeInForce(row.time_in_force),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        trail_price=row.trail_price,
        trail_percent=row.trail_percent,
        extended_hours=row.extended_hours,
        client_order_id=row.request_client_order_id,
        order_class=OrderClass(row.order_class),
        take_profit_limit_price=row.take_profit_limit_price,
        stop_loss_stop_price=row.stop_loss_stop_price,
        stop_loss_limit_price=row.stop_loss_limit_price,
    )
    return OrderIntent(
        client_order_id=row.client_order_id,
        strategy_id=row.strategy_id,
        sequence=row.sequence,
        request=request,
        created_at=row.created_at,
    )


def event_row(event: OrderEvent, run_id: str) -> dict[str, object]:
    """The ``order_events`` columns of ``event``."""
    return {
        "run_id": run_id,
        "client_order_id": event.client_order_id,
        "kind": event.kind.value,
        "status": None if event.status is None else event.status.value,
        "timestamp": event.timestamp,
        "broker_order_id": event.broker_order_id,
        "filled_qty": event.filled_qty,
        "filled_avg_price": event.filled_avg_price,
        "detail": event.detail,
    }


def to_event(row: OrderEventRow) -> OrderEvent:
    """The ``OrderEvent`` a row holds."""
    return OrderEvent(
        client_order_id=row.client_order_id,
        kind=OrderEventKind(row.kind),
        status=None if row.status is None else OrderStatus(row.status),
        timestamp=row.timestamp,
        broker_order_id=row.broker_order_id,
        filled_qty=row.filled_qty,
        filled_avg_price=row.filled_avg_price,
        detail=row.detail,
    )


def fill_row(fill: Fill, *, run_id: str, strategy_id: str) -> dict[str, object]:
    """The ``fills`` columns of ``fill``."""
    return {
        "fill_id": fill.id,
        "run_id": run_id,
        "strategy_id": strategy_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "timestamp": fill.timestamp,
        "fee": fill.fee,
        "cumulative_qty": fill.cumulative_qty,
        "leaves_qty": fill.leaves_qty,
    }


def to_fill(row: FillRow) -> Fill:
    """The ``Fill`` a row holds."""
    return Fill(
        id=row.fill_id,
        order_id=row.order_id,
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=OrderSide(row.side),
        qty=row.qty,
        price=row.price,
        timestamp=row.timestamp,
        fee=row.fee,
        cumulative_qty=row.cumulative_qty,
        leaves_qty=row.leaves_qty,
    )


def read_intents(
    database: Database, *, open_only: bool = False, run_id: str | None = None
) -> list[tuple[OrderIntent, OrderEvent | None]]:
    """Intents in the order recorded, each with its latest event (the one recorded last).

    ``open_only`` keeps those whose latest event is missing, has no status, or has a status
    not in ``TERMINAL_STATUSES`` (as ``execution.oms.OrderJournal`` defines it).
    """
    latest = (
        select(OrderEventRow.client_order_id.label("coid"), func.max(OrderEventRow.id).label("id"))
        .group_by(OrderEventRow.client_order_id)
        .subquery()
    )
    event = aliased(OrderEventRow)
    statement = (
        select(OrderIntentRow, event)
        .outerjoin(latest, latest.c.coid == OrderIntentRow.client_order_id)
        .outerjoin(event, event.id == latest.c.id)
        .order_by(OrderIntentRow.seq)
    )
    if run_id is not None:
        statement = statement.where(OrderIntentRow.run_id == run_id)
    if open_only:
        still_open: ColumnElement[bool] = or_(
            event.status.is_(None), event.status.not_in(_TERMINAL)
        )
        statement = statement.where(still_open)
    with database.session() as session:
        rows = session.execute(statement).all()
        return [(to_intent(i), None if e is None else to_event(e)) for i, e in rows]


def read_fills(
    database: Database,
    *,
    strategy_id: str | None = None,
    since: datetime | None = None,
    run_id: str | None = None,
) -> list[Fill]:
    """Fills in the order recorded: of ``strategy_id``, strictly after ``since`` (by time)."""
    statement = select(FillRow).order_by(FillRow.seq)
    if strategy_id is not None:
        statement = statement.where(FillRow.strategy_id == strategy_id)
    if since is not None:
        statement = statement.where(FillRow.timestamp > since)
    if run_id is not None:
        statement = statement.where(FillRow.run_id == run_id)
    with database.session() as session:
        return [to_fill(r) for r in session.scalars(statement).all()]


class SqlOrderJournal:
    """Order intents, events and fills of one run: durable when each ``record_*`` returns,
    or, with ``defer``, events and fills by group commit (see the module's docstring).

    ``defer(callback)`` must run ``callback`` soon on the thread that records (an event
    loop's ``call_soon``); ``flush()`` commits what is held at once. Writes go straight to
    the driver (``_driver``): they are on every order's path.
    """

    def __init__(self, database: Database, *, run_id: str, defer: Defer | None = None) -> None:
        with database.session() as session:
            if session.get(RunRow, run_id) is None:
                raise UnknownRunError(
                    f"no run {run_id!r} in the state database: start one with "
                    "SqlRunStore.start_run() first",
                    context={"run_id": run_id},
                )
        self._db = database
        self.run_id = run_id
        engine, sqlite = database.engine, database.is_sqlite
        # RETURNING says whether the row went in (psycopg gives rowcount -1 for ON CONFLICT).
        self._add_intent = DriverStatement(
            dialect_insert(sqlite, OrderIntentRow)
            .on_conflict_do_nothing(index_elements=["client_order_id"])
            .returning(OrderIntentRow.seq),
            engine,
            _INTENT_KEYS,
            returns=True,
        )
        self._add_event = DriverStatement(
            dialect_insert(sqlite, OrderEventRow), engine, _EVENT_KEYS, returns=False
        )
        self._add_fill = DriverStatement(
            dialect_insert(sqlite, FillRow)
            .on_conflict_do_nothing(index_elements=["fill_id"])
            .returning(FillRow.seq),
            engine,
            _FILL_KEYS,
            returns=True,
        )
        self._has_fill = DriverStatement(
            select(FillRow.seq).where(FillRow.fill_id == bindparam("fill_id")),
            engine,
            ["fill_id"],
            returns=True,
        )
        self._defer = defer
        self._own = database.dedicated_connection()  # SQLite: no pool on the order path
        self._lock = threading.RLock()
        self._held: list[tuple[DriverStatement, dict[str, object]]] = []
        self._held_fills: set[str] = set()
        self._flush_due = False
        self.commits = 0  # transactions committed (group commit makes it fewer than records)
        self.failed_commits = 0  # group commits that failed (their records stayed held)
        self.last_failure: str | None = None  # the newest failure while records are held
        self.failure_listeners: list[Callable[[Exception, int], None]] = []

    def record_intent(self, intent: OrderIntent, *, first_event: OrderEvent | None = None) -> None:
        """Write ``intent`` and ``first_event`` in one transaction (committed on return), with
        any events and fills held before them; DuplicateIntentError, and nothing of the intent
        written, if its id is taken."""
        row = intent_row(intent, self.run_id)
        with self._lock:
            held = self._take()
            try:
                with self._transaction() as cursor:
                    self._write(cursor, held)
                    self._add_intent.run(cursor, row)
                    written = cursor.fetchone() is not None
                    if written and first_event is not None:
                        self._add_event.run(cursor, event_row(first_event, self.run_id))
            except BaseException:
                self._put_back(held)
                raise
            self.commits += 1
            self.last_failure = None  # what was held went in with the intent
        if not written:
            raise DuplicateIntentError(
                f"an intent with client_order_id {intent.client_order_id!r} is already "
                "recorded; nothing was written",
                context={"client_order_id": intent.client_order_id},
            )

    def record_event(self, event: OrderEvent) -> None:
        """Append ``event`` (committed on return, or held for group commit)."""
        row = event_row(event, self.run_id)
        with self._lock:
            if self._defer is not None:
                self._hold(self._add_event, row)
                return
            with self._transaction() as cursor:
                self._add_event.run(cursor, row)
            self.commits += 1

    def record_fill(self, fill: Fill, *, strategy_id: str) -> bool:
        """Write ``fill`` (committed on return, or held for group commit); False when its id
        was already recorded (or is held)."""
        row = fill_row(fill, run_id=self.run_id, strategy_id=strategy_id)
        with self._lock:
            if self._defer is not None:
                if fill.id in self._held_fills or self._recorded(fill.id):
                    return False
                self._held_fills.add(fill.id)
                self._hold(self._add_fill, row)
                return True
            with self._transaction() as cursor:
                self._add_fill.run(cursor, row)
                written = cursor.fetchone() is not None
            self.commits += 1
        return written

    def flush(self) -> None:
        """Commit the events and fills held for group commit now (a no-op when none are).
        On failure they stay held, in order, for the next write to try again."""
        with self._lock:
            self._flush_due = False
            held = self._take()
            if not held:
                return
            try:
                with self._transaction() as cursor:
                    self._write(cursor, held)
            except BaseException:
                self._put_back(held)
                raise
            self.commits += 1
            self.last_failure = None

    @property
    def held(self) -> int:
        """Records waiting for group commit."""
        return len(self._held)

    def _hold(self, statement: DriverStatement, row: dict[str, object]) -> None:
        self._held.append((statement, row))
        if not self._flush_due and self._defer is not None:
            self._flush_due = True
            self._defer(self._deferred_flush)

    def _deferred_flush(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # held, in order: the next intent or flush writes them
            self.failed_commits += 1
            self.last_failure = repr(exc)
            held = len(self._held)
            _log.critical(
                "order journal group commit failed; records held", error=repr(exc), held=held
            )
            for listener in list(self.failure_listeners):
                try:
                    listener(exc, held)
                except Exception as alert_exc:  # the records are held whatever it does
                    _log.error("journal failure listener raised", error=repr(alert_exc))

    def _take(self) -> list[tuple[DriverStatement, dict[str, object]]]:
        held, self._held = self._held, []
        self._held_fills = set()
        return held

    def _put_back(self, held: list[tuple[DriverStatement, dict[str, object]]]) -> None:
        self._held[:0] = held
        self._held_fills.update(
            str(row["fill_id"]) for statement, row in held if statement is self._add_fill
        )

    @staticmethod
    def _write(cursor: DBAPICursor, held: list[tuple[DriverStatement, dict[str, object]]]) -> None:
        for statement, row in held:
            statement.run(cursor, row)
            if statement.returns:
                cursor.fetchall()  # a RETURNING insert's row must be read before the next

    @contextmanager
    def _transaction(self) -> Iterator[DBAPICursor]:
        """A cursor in a transaction (the caller holds the lock): on the journal's own
        connection for SQLite, a pooled one otherwise."""
        own = self._own
        if own is None:
            with driver_transaction(self._db.engine) as pooled:
                yield pooled
            return
        cursor = own.cursor()
        try:
            yield cast(DBAPICursor, cursor)
            own.commit()
        except BaseException:
            own.rollback()
            raise
        finally:
            cursor.close()

    def _recorded(self, fill_id: str) -> bool:
        with self._transaction() as cursor:
            self._has_fill.run(cursor, {"fill_id": fill_id})
            return cursor.fetchone() is not None

    def intents(self, *, open_only: bool = False) -> list[tuple[OrderIntent, OrderEvent | None]]:
        """Every intent (of every run) in the order recorded, with its latest event.

        ``open_only``: those whose latest event is missing, status-less or not terminal.
        """
        self.flush()
        return read_intents(self._db, open_only=open_only)

    def fills(self, *, strategy_id: str | None = None, since: datetime | None = None) -> list[Fill]:
        """Fills (of every run) in the order recorded; of ``strategy_id``, after ``since``."""
        self.flush()
        return read_fills(self._db, strategy_id=strategy_id, since=since)

    def last_sequence(self, strategy_id: str) -> int:
        """The highest sequence recorded for ``strategy_id`` (any run); -1 when none."""
        statement = select(func.max(OrderIntentRow.sequence)).where(
            OrderIntentRow.strategy_id == strategy_id
        )
        with self._db.engine.connect() as connection:
            value = connection.execute(statement).scalar()
        return -1 if value is None else int(value)
