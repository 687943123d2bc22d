"""Health, alerts, logging, errors and breakers as Prometheus metrics, computed at scrape.

A collector reads the latest values when scraped, so nothing on the hot path updates a
metric. ``METRIC_NAMES`` lists what it exports (docs/health.md; deploy/grafana uses them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from stockyard.health._alerts import Alert, AlertSeverity
from stockyard.health._model import HealthReport
from stockyard.obs._logging import logging_stats
from stockyard.resilience import BreakerRegistry, CircuitState, ErrorRegistry

__all__ = ["METRIC_NAMES", "HealthCollector"]

METRIC_NAMES = (
    "stockyard_health_status",
    "stockyard_health_check_status",
    "stockyard_health_check_value",
    "stockyard_health_check_duration_seconds",
    "stockyard_health_cycles_total",
    "stockyard_alerts_firing",
    "stockyard_alerts_raised_total",
    "stockyard_log_entries_total",
    "stockyard_log_queue_depth",
    "stockyard_errors_total",
    "stockyard_circuit_breaker_state",
)

_BREAKER_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class HealthCollector(Collector):
    """Yields the metrics of ``METRIC_NAMES`` from the latest report and the registries."""

    def __init__(
        self,
        *,
        report: Callable[[], HealthReport | None],
        firing: Callable[[], Sequence[Alert]],
        raised: Callable[[], Mapping[AlertSeverity, int]],
        breakers: BreakerRegistry,
        errors: ErrorRegistry,
        checks: bool = True,
    ) -> None:
        self._checks = checks
        self._report = report
        self._firing = firing
        self._raised = raised
        self._breakers = breakers
        self._errors = errors

    def describe(self) -> list[Metric]:
        """No description up front: the names are stable, the labels are not."""
        return []

    @classmethod
    def of_process(cls, *, breakers: BreakerRegistry, errors: ErrorRegistry) -> HealthCollector:
        """Only the logging, error and breaker metrics: a node process's, whose checks and
        alerts the hub reports."""
        return cls(
            report=lambda: None,
            firing=lambda: (),
            raised=dict,
            breakers=breakers,
            errors=errors,
            checks=False,
        )

    def collect(self) -> Iterator[Metric]:
        """The current values."""
        if self._checks:
            yield from self._health()
            yield from self._alerts()
        yield from self._logging()
        yield from self._resilience()

    def _health(self) -> Iterator[Metric]:
        report = self._report()
        overall = GaugeMetricFamily(
            "stockyard_health_status", "Overall health: 0 pass, 1 warn, 2 fail (-1 not yet run)"
        )
        overall.add_metric([], -1 if report is None else report.status.rank)
        status = GaugeMetricFamily(
            "stockyard_health_check_status",
            "Each check's status: 0 pass, 1 warn, 2 fail",
            labels=["check", "component"],
        )
        value = GaugeMetricFamily(
            "stockyard_health_check_value",
            "Each check's numeric observed value, in its unit",
            labels=["check", "component", "unit"],
        )
        duration = GaugeMetricFamily(
            "stockyard_health_check_duration_seconds",
            "How long each check took in its latest run",
            labels=["check"],
        )
        cycles = CounterMetricFamily("stockyard_health_cycles", "Check cycles completed")
        cycles.add_metric([], 0 if report is None else report.cycle)
        for key, check in sorted((report.checks if report else {}).items()):
            duration.add_metric([key], check.duration_ms / 1000)
            for o in check.observations:
                component = o.component_id or check.component
                status.add_metric([key, component], o.status.rank)
                if isinstance(o.value, int | float) and not isinstance(o.value, bool):
                    value.add_metric([key, component, o.unit or ""], float(o.value))
        yield from (overall, status, value, duration, cycles)

    def _alerts(self) -> Iterator[Metric]:
        firing = GaugeMetricFamily(
            "stockyard_alerts_firing", "Alerts firing now", labels=["severity"]
        )
        raised = CounterMetricFamily(
            "stockyard_alerts_raised", "Alerts raised since start", labels=["severity"]
        )
        now = self._firing()
        counts = self._raised()
        for severity in AlertSeverity:
            firing.add_metric([severity.value], sum(1 for a in now if a.severity is severity))
            raised.add_metric([severity.value], counts.get(severity, 0))
        yield from (firing, raised)

    def _logging(self) -> Iterator[Metric]:
        stats = logging_stats()
        entries = CounterMetricFamily(
            "stockyard_log_entries", "Log entries written, by level", labels=["level"]
        )
        by_level: Mapping[str, int] = stats["by_level"]
        for level in ("debug", "info", "warning", "error", "critical"):
            entries.add_metric([level], by_level.get(level, 0))
        depth = GaugeMetricFamily("stockyard_log_queue_depth", "Log entries queued, not written")
        depth.add_metric([], stats["queue_depth"])
        yield from (entries, depth)

    def _resilience(self) -> Iterator[Metric]:
        snapshot = self._errors.snapshot(top=0)
        errors = CounterMetricFamily(
            "stockyard_errors", "Handled errors, by category", labels=["category"]
        )
        by_category = snapshot["by_category"]
        assert isinstance(by_category, dict)
        for category, count in sorted(by_category.items()):
            errors.add_metric([str(category)], int(count))
        breakers = GaugeMetricFamily(
            "stockyard_circuit_breaker_state",
            "Each circuit breaker: 0 closed, 1 half-open, 2 open",
            labels=["breaker"],
        )
        for name in self._breakers.names():
            breakers.add_metric([name], _BREAKER_VALUE[self._breakers.get(name).state])
        yield from (errors, breakers)
