from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from stockyard.health import (
    Alert,
    AlertSeverity,
    AlertState,
    CheckRunner,
    HealthCheck,
    HealthRegistry,
    HealthStatus,
    InMemoryAlertStore,
    InMemoryMetricsHistory,
    MetricSample,
    Observation,
    parse_since,
    samples_from_report,
)

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_a_report_becomes_status_value_and_latency_samples() -> None:
    def breakers() -> list[Observation]:
        return [Observation(HealthStatus.WARN, "open", None, "", "alpaca")]

    registry = HealthRegistry(
        [
            HealthCheck("cpu", "utilization", lambda: Observation.passed(value=12.5, unit="%")),
            HealthCheck("breakers", "state", breakers),
        ]
    )
    report = asyncio.run(CheckRunner(registry, timeout=1).run_once())
    samples = {(s.component, s.name): s for s in samples_from_report(report)}
    assert samples["cpu", "utilization"].value == 12.5
    assert samples["cpu", "utilization"].unit == "%"
    assert samples["cpu", "status"].value == 0.0
    assert samples["alpaca", "status"].value == 1.0
    assert ("alpaca", "state") not in samples  # a text value is not a metric
    assert samples["cpu", "check_ms"].unit == "ms"


def test_in_memory_history_filters_by_time_and_component_and_prunes() -> None:
    history = InMemoryMetricsHistory()
    history.add(
        [
            MetricSample(NOW - timedelta(hours=h), c, "x", float(h))
            for h in range(5)
            for c in ("cpu", "disk")
        ]
    )
    recent = history.query(since=NOW - timedelta(hours=2), component="cpu")
    assert [s.value for s in recent] == [2.0, 1.0, 0.0]
    assert [s.value for s in history.query(limit=2)] == [0.0, 0.0]
    assert history.prune(NOW - timedelta(hours=3)) == 2
    assert len(history.query()) == 8


def _alert(n: int, *, severity: AlertSeverity, state: AlertState) -> Alert:
    at = NOW - timedelta(minutes=n)
    return Alert(str(n), "r", f"s{n}", severity, state, "", None, at, at)


def test_in_memory_alert_store_lists_newest_first_with_filters() -> None:
    store = InMemoryAlertStore()
    store.save(_alert(1, severity=AlertSeverity.CRITICAL, state=AlertState.FIRING))
    store.save(_alert(2, severity=AlertSeverity.WARNING, state=AlertState.RESOLVED))
    store.save(_alert(3, severity=AlertSeverity.CRITICAL, state=AlertState.RESOLVED))
    assert [a.id for a in store.query()] == ["1", "2", "3"]
    assert [a.id for a in store.query(severity=AlertSeverity.CRITICAL)] == ["1", "3"]
    assert [a.id for a in store.query(since=NOW - timedelta(minutes=2))] == ["1", "2"]
    assert [a.id for a in store.query(state=AlertState.FIRING)] == ["1"]
    assert store.prune(NOW - timedelta(minutes=1, seconds=30)) == 2  # resolved ones only
    assert [a.id for a in store.query()] == ["1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", NOW - timedelta(minutes=15)),
        ("2h", NOW - timedelta(hours=2)),
        ("1.5d", NOW - timedelta(hours=36)),
        ("2026-01-05T10:00:00", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05T10:00:00+01:00", datetime(2026, 1, 5, 9, tzinfo=UTC)),
    ],
)
def test_since_reads_durations_and_iso_times(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "", "9999-12-31T23:59:59-23:59", "999999999999d"])
def test_since_refuses_what_it_cannot_read_with_one_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since(text, now=NOW)
