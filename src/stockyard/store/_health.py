"""The health history in SQL: ``MetricsHistory`` and ``AlertStore`` over the state database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import delete, insert, select

from stockyard.health import (
    Alert,
    AlertSeverity,
    AlertState,
    MetricSample,
    ObservedValue,
)
from stockyard.store._db import Database
from stockyard.store._models import AlertRow, MetricSampleRow

__all__ = ["SqlAlertStore", "SqlMetricsHistory"]


class SqlMetricsHistory:
    """Metric samples in the ``metric_samples`` table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, samples: Sequence[MetricSample]) -> None:
        """Insert ``samples`` in one statement."""
        if not samples:
            return
        rows = [
            {
                "time": s.time,
                "component": s.component,
                "name": s.name,
                "value": s.value,
                "unit": s.unit,
            }
            for s in samples
        ]
        with self._db.session() as session:
            session.execute(insert(MetricSampleRow), rows)

    def query(
        self, *, since: datetime | None = None, component: str | None = None, limit: int = 1000
    ) -> list[MetricSample]:
        """The newest ``limit`` samples at or after ``since``, oldest first."""
        if limit <= 0:
            return []
        statement = select(MetricSampleRow).order_by(
            MetricSampleRow.time.desc(), MetricSampleRow.id.desc()
        )
        if since is not None:
            statement = statement.where(MetricSampleRow.time >= since)
        if component is not None:
            statement = statement.where(MetricSampleRow.component == component)
        with self._db.session() as session:
            rows = session.scalars(statement.limit(limit)).all()
        return [MetricSample(r.time, r.component, r.name, r.value, r.unit) for r in reversed(rows)]

    def prune(self, before: datetime) -> int:
        """Delete samples older than ``before``; return how many."""
        with self._db.session() as session:
            result = session.execute(delete(MetricSampleRow).where(MetricSampleRow.time < before))
        return int(getattr(result, "rowcount", 0) or 0)


def _to_alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        rule=row.rule,
        subject=row.subject,
        severity=AlertSeverity(row.severity),
        state=AlertState(row.state),
        summary=row.summary,
        value=cast(ObservedValue, row.value),
        started_at=row.started_at,
        raised_at=row.raised_at,
        resolved_at=row.resolved_at,
        acknowledged_at=row.acknowledged_at,
    )


class SqlAlertStore:
    """Alerts in the ``alerts`` table; ``save`` inserts or updates by id."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def save(self, alert: Alert) -> None:
        """Insert or replace ``alert``."""
        with self._db.session() as session:
            session.merge(
                AlertRow(
                    id=alert.id,
                    rule=alert.rule,
                    subject=alert.subject,
                    severity=alert.severity.value,
                    state=alert.state.value,
                    summary=alert.summary,
                    value=alert.value,
                    started_at=alert.started_at,
                    raised_at=alert.raised_at,
                    resolved_at=alert.resolved_at,
                    acknowledged_at=alert.acknowledged_at,
                )
            )

    def get(self, alert_id: str) -> Alert | None:
        """The alert with this id, if any."""
        with self._db.session() as session:
            row = session.get(AlertRow, alert_id)
            return None if row is None else _to_alert(row)

    def query(
        self,
        *,
        severity: AlertSeverity | None = None,
        since: datetime | None = None,
        state: AlertState | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """The newest ``limit`` alerts raised at or after ``since``, newest first."""
        if limit <= 0:
            return []
        statement = select(AlertRow).order_by(AlertRow.raised_at.desc(), AlertRow.id)
        if severity is not None:
            statement = statement.where(AlertRow.severity == severity.value)
        if since is not None:
            statement = statement.where(AlertRow.raised_at >= since)
        if state is not None:
            statement = statement.where(AlertRow.state == state.value)
        with self._db.session() as session:
            return [_to_alert(r) for r in session.scalars(statement.limit(limit)).all()]

    def prune(self, before: datetime) -> int:
        """Delete resolved alerts raised before ``before``; return how many."""
        with self._db.session() as session:
            result = session.execute(
                delete(AlertRow).where(
                    AlertRow.state == AlertState.RESOLVED.value, AlertRow.raised_at < before
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)
