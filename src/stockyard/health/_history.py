"""Metric samples and alerts kept over time: the interfaces, and in-memory implementations.

The SQL implementations live in ``stockyard.store`` (a floor above); the API wires them.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from stockyard.health._alerts import Alert, AlertSeverity, AlertState
from stockyard.health._model import HealthReport

__all__ = [
    "AlertStore",
    "InMemoryAlertStore",
    "InMemoryMetricsHistory",
    "MetricSample",
    "MetricsHistory",
    "parse_since",
    "samples_from_report",
]

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, *, now: datetime) -> datetime:
    """``15m``, ``2h``, ``7d`` before ``now``, or an ISO 8601 time (naive means UTC).

    Raises ValueError with a message fit for the user.
    """
    try:
        match = _RELATIVE.match(text)
        if match is not None:
            return now - timedelta(seconds=float(match.group(1)) * _UNIT_S[match.group(2)])
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"since={text!r} is neither a duration (15m, 2h, 7d) nor an ISO 8601 time"
        ) from None


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One measured value of one component at one time."""

    time: datetime
    component: str
    name: str
    value: float
    unit: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "time": self.time.isoformat(),
            "component": self.component,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
        }


@runtime_checkable
class MetricsHistory(Protocol):
    """Where metric samples are kept. Implementations are thread-safe."""

    def add(self, samples: Sequence[MetricSample]) -> None:
        """Keep ``samples``."""

    def query(
        self, *, since: datetime | None = None, component: str | None = None, limit: int = 1000
    ) -> list[MetricSample]:
        """The newest ``limit`` samples at or after ``since``, oldest first."""

    def prune(self, before: datetime) -> int:
        """Delete samples older than ``before``; return how many."""


@runtime_checkable
class AlertStore(Protocol):
    """Where alerts are kept. ``save`` inserts or replaces by id. Thread-safe."""

    def save(self, alert: Alert) -> None:
        """Insert or replace ``alert``."""

    def get(self, alert_id: str) -> Alert | None:
        """The alert with this id, if any."""

    def query(
        self,
        *,
        severity: AlertSeverity | None = None,
        since: datetime | None = None,
        state: AlertState | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """The newest ``limit`` alerts raised at or after ``since``, newest first."""

    def prune(self, before: datetime) -> int:
        """Delete resolved alerts raised before ``before``; return how many."""


def samples_from_report(report: HealthReport) -> list[MetricSample]:
    """Per observation: its status rank (0 pass, 1 warn, 2 fail) and its numeric value;
    per check: its latency in ms."""
    samples: list[MetricSample] = []
    for key, check in report.checks.items():
        measurement = key.split(":", 1)[1]
        at = check.time
        for o in check.observations:
            component = o.component_id or check.component
            samples.append(MetricSample(at, component, "status", float(o.status.rank)))
            value = o.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                samples.append(MetricSample(at, component, measurement, float(value), o.unit))
        samples.append(MetricSample(at, check.component, "check_ms", check.duration_ms, "ms"))
    return samples


class InMemoryMetricsHistory:
    """The newest ``capacity`` samples in memory."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._samples: deque[MetricSample] = deque(maxlen=capacity)

    def add(self, samples: Sequence[MetricSample]) -> None:
        """Keep ``samples``."""
        with self._lock:
            self._samples.extend(samples)

    def query(
        self, *, since: datetime | None = None, component: str | None = None, limit: int = 1000
    ) -> list[MetricSample]:
        """The newest ``limit`` samples at or after ``since``, oldest first."""
        with self._lock:
            found = [
                s
                for s in self._samples
                if (since is None or s.time >= since)
                and (component is None or s.component == component)
            ]
        found.sort(key=lambda s: s.time)
        return found[-limit:] if limit > 0 else []

    def prune(self, before: datetime) -> int:
        """Delete samples older than ``before``; return how many."""
        with self._lock:
            kept = [s for s in self._samples if s.time >= before]
            removed = len(self._samples) - len(kept)
            self._samples.clear()
            self._samples.extend(kept)
        return removed


class InMemoryAlertStore:
    """Alerts in a dict, newest ``capacity`` kept."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._alerts: dict[str, Alert] = {}
        self._capacity = capacity

    def save(self, alert: Alert) -> None:
        """Insert or replace ``alert``."""
        with self._lock:
            self._alerts[alert.id] = alert
            while len(self._alerts) > self._capacity:
                del self._alerts[next(iter(self._alerts))]

    def get(self, alert_id: str) -> Alert | None:
        """The alert with this id, if any."""
        with self._lock:
            return self._alerts.get(alert_id)

    def query(
        self,
        *,
        severity: AlertSeverity | None = None,
        since: datetime | None = None,
        state: AlertState | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """The newest ``limit`` alerts raised at or after ``since``, newest first."""
        with self._lock:
            found = [
                a
                for a in self._alerts.values()
                if (severity is None or a.severity is severity)
                and (since is None or a.raised_at >= since)
                and (state is None or a.state is state)
            ]
        found.sort(key=lambda a: a.raised_at, reverse=True)
        return found[:limit] if limit > 0 else []

    def prune(self, before: datetime) -> int:
        """Delete resolved alerts raised before ``before``; return how many."""
        with self._lock:
            old = [
                k
                for k, a in self._alerts.items()
                if a.state is AlertState.RESOLVED and a.raised_at < before
            ]
            for key in old:
                del self._alerts[key]
        return len(old)
