"""Handled errors, persisted from the error registry: one row per fingerprint, counted."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from stockyard.resilience import ErrorCategory, ErrorRecord, ErrorRegistry, Severity
from stockyard.store._db import Database
from stockyard.store._sql import dialect_insert
from stockyard.store._trading_models import ErrorRow

__all__ = ["SqlErrorStore", "StoredError"]

MAX_FINGERPRINT = 1024  # longer fingerprints are cut here (and share a row if they agree so far)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredError:
    """Every persisted occurrence of one fingerprint.

    ``severity`` and ``component`` are those of the newest occurrence seen with them; None
    when the registry no longer held any record of the fingerprint when it was synced.
    """

    fingerprint: str
    category: ErrorCategory
    severity: Severity | None
    error_type: str
    component: str | None
    message: str
    first_seen: datetime
    last_seen: datetime
    count: int


class SqlErrorStore:
    """The ``errors`` table: ``record`` single errors, ``sync`` a registry's counts, ``top``.

    ``sync`` writes only what the registry counted since the previous ``sync`` of this store,
    so call it periodically (and at shutdown) with the same registry; a restarted process
    adds its counts to the stored ones.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        self._synced: dict[str, int] = {}
        self._sync_lock = threading.Lock()

    def record(self, records: Iterable[ErrorRecord]) -> int:
        """Add each record (count + 1 per record); return how many were written."""
        batch = [
            StoredError(
                fingerprint=r.fingerprint,
                category=r.category,
                severity=r.severity,
                error_type=r.error_type,
                component=r.component,
                message=r.message,
                first_seen=r.at,
                last_seen=r.at,
                count=1,
            )
            for r in records
        ]
        self._write(batch)
        return len(batch)

    def sync(self, registry: ErrorRegistry) -> int:
        """Add what ``registry`` counted since the last sync; return how many errors that is."""
        with self._sync_lock:
            return self._sync(registry)

    def _sync(self, registry: ErrorRegistry) -> int:
        newest: dict[str, ErrorRecord] = {}
        for record in registry.recent():
            newest[record.fingerprint] = record
        batch: list[StoredError] = []
        counts: dict[str, int] = {}
        for summary in registry.top(len(self._synced) + registry.total + 1):
            before = self._synced.get(summary.fingerprint, 0)
            # fewer than before: the registry was cleared (or forgot the fingerprint) since
            delta = summary.count - before if summary.count >= before else summary.count
            counts[summary.fingerprint] = summary.count
            if delta <= 0:
                continue
            latest = newest.get(summary.fingerprint)
            batch.append(
                StoredError(
                    fingerprint=summary.fingerprint,
                    category=summary.category,
                    severity=None if latest is None else latest.severity,
                    error_type=summary.error_type,
                    component=None if latest is None else latest.component,
                    message=summary.last_message,
                    first_seen=summary.first_seen,
                    last_seen=summary.last_seen,
                    count=delta,
                )
            )
        self._write(batch)  # a failed write leaves the counts to the next sync
        self._synced.update(counts)
        return sum(o.count for o in batch)

    def _write(self, batch: list[StoredError]) -> None:
        if not batch:
            return
        table = ErrorRow.__table__.c
        statement = dialect_insert(self._db.is_sqlite, ErrorRow)
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["fingerprint"],
            set_={
                "count": table.count + new.count,
                "first_seen": case(
                    (new.first_seen < table.first_seen, new.first_seen), else_=table.first_seen
                ),
                "last_seen": case(
                    (new.last_seen > table.last_seen, new.last_seen), else_=table.last_seen
                ),
                "message": case(
                    (new.last_seen >= table.last_seen, new.message), else_=table.message
                ),
                "severity": func.coalesce(new.severity, table.severity),
                "component": func.coalesce(new.component, table.component),
            },
        )
        rows = [
            {
                "fingerprint": o.fingerprint[:MAX_FINGERPRINT],
                "category": o.category.value,
                "severity": None if o.severity is None else o.severity.value,
                "error_type": o.error_type[:128],
                "component": None if o.component is None else o.component[:128],
                "message": o.message,
                "first_seen": o.first_seen,
                "last_seen": o.last_seen,
                "count": o.count,
            }
            for o in batch
        ]
        with self._db.engine.begin() as connection:
            for row in rows:  # a row a statement: one batch may hold a fingerprint twice
                connection.execute(statement, row)

    def top(self, n: int = 10, *, category: ErrorCategory | None = None) -> list[StoredError]:
        """The ``n`` most frequent fingerprints (of ``category``), most frequent first."""
        statement = select(ErrorRow).order_by(ErrorRow.count.desc(), ErrorRow.fingerprint)
        if category is not None:
            statement = statement.where(ErrorRow.category == category.value)
        with self._db.session() as session:
            return [
                StoredError(
                    fingerprint=r.fingerprint,
                    category=ErrorCategory(r.category),
                    severity=None if r.severity is None else Severity(r.severity),
                    error_type=r.error_type,
                    component=r.component,
                    message=r.message,
                    first_seen=r.first_seen,
                    last_seen=r.last_seen,
                    count=r.count,
                )
                for r in session.scalars(statement.limit(n)).all()
            ]
