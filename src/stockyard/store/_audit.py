"""The audit log: one row per control call (who, what, arguments, how it ended)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from stockyard.store._control_models import AuditRow
from stockyard.store._db import Database

__all__ = ["AuditEntry", "SqlAuditLog"]

_MAX_RESULT = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One recorded control call. ``args`` are already masked by the caller."""

    id: int
    time: datetime
    key_id: str | None
    key_name: str
    via: str
    action: str
    args: dict[str, object]
    ok: bool
    result: str


class SqlAuditLog:
    """The ``audit_log`` table: ``record`` a call, ``entries`` newest first."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(
        self,
        *,
        key_id: str | None,
        key_name: str,
        via: str,
        action: str,
        args: dict[str, object],
        ok: bool,
        result: str,
        at: datetime | None = None,
    ) -> int:
        """Append an entry; answers its id."""
        row = AuditRow(
            time=at or datetime.now(UTC),
            key_id=key_id,
            key_name=key_name,
            via=via,
            action=action,
            args=args,
            ok=ok,
            result=result[:_MAX_RESULT],
        )
        with self._db.session() as session:
            session.add(row)
            session.flush()
            return row.id

    def entries(
        self,
        *,
        limit: int = 100,
        action: str | None = None,
        key_name: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntry]:
        """Recorded calls, newest first, filtered by action, key name and time."""
        statement = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if action is not None:
            statement = statement.where(AuditRow.action == action)
        if key_name is not None:
            statement = statement.where(AuditRow.key_name == key_name)
        if since is not None:
            statement = statement.where(AuditRow.time >= since)
        with self._db.session() as session:
            return [
                AuditEntry(
                    id=row.id,
                    time=row.time,
                    key_id=row.key_id,
                    key_name=row.key_name,
                    via=row.via,
                    action=row.action,
                    args=dict(row.args) if isinstance(row.args, dict) else {},
                    ok=row.ok,
                    result=row.result,
                )
                for row in session.scalars(statement)
            ]
