"""The state database on both backends: SQLite (a file) and PostgreSQL (a fresh database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from stockyard.health import Alert, AlertSeverity, AlertState, MetricSample
from stockyard.store import Database, SqlAlertStore, SqlMetricsHistory

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_opening_migrates_to_the_newest_schema_and_again_changes_nothing(
    database: Database,
) -> None:
    assert database.revision() == Database.head()
    tables = set(inspect(database.engine).get_table_names())
    assert {"metric_samples", "alerts", "alembic_version"} <= tables
    database.migrate()
    assert database.revision() == Database.head()


def test_metric_samples_round_trip_in_utc_filtered_and_pruned(database: Database) -> None:
    history = SqlMetricsHistory(database)
    history.add(
        [
            MetricSample(NOW - timedelta(hours=h), c, "utilization", float(h), "percent")
            for h in range(5)
            for c in ("cpu", "memory")
        ]
    )
    recent = history.query(since=NOW - timedelta(hours=2), component="cpu")
    assert [s.value for s in recent] == [2.0, 1.0, 0.0]
    assert recent[-1].time == NOW
    assert recent[-1].time.tzinfo is UTC
    assert recent[-1].unit == "percent"
    assert len(history.query(limit=3)) == 3
    assert history.prune(NOW - timedelta(hours=3)) == 2
    assert len(history.query()) == 8


def test_alerts_are_saved_updated_in_place_listed_and_pruned(database: Database) -> None:
    store = SqlAlertStore(database)
    first = Alert(
        "a1",
        "down",
        "redis:responseTime",
        AlertSeverity.CRITICAL,
        AlertState.FIRING,
        "redis down",
        2.5,
        NOW - timedelta(minutes=5),
        NOW - timedelta(minutes=5),
    )
    second = Alert(
        "a2",
        "disk-low",
        "disk:free",
        AlertSeverity.WARNING,
        AlertState.FIRING,
        "disk low",
        "n/a",
        NOW,
        NOW,
    )
    store.save(first)
    store.save(second)
    resolved = replace(first, state=AlertState.RESOLVED, resolved_at=NOW)
    store.save(resolved)
    assert store.get("a1") == resolved
    assert store.get("nope") is None
    assert [a.id for a in store.query()] == ["a2", "a1"]
    assert [a.id for a in store.query(severity=AlertSeverity.CRITICAL)] == ["a1"]
    assert [a.id for a in store.query(state=AlertState.FIRING)] == ["a2"]
    assert [a.id for a in store.query(since=NOW - timedelta(minutes=1))] == ["a2"]
    stored = store.get("a2")
    assert stored is not None
    assert stored.value == "n/a"
    assert store.prune(NOW) == 1  # the resolved one only
    assert [a.id for a in store.query()] == ["a2"]
