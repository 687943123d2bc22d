"""``HealthService``: the one facade the API, the CLI and ``stockyard up`` use.

A background task runs every check each interval; after each cycle the report is published
(the read side serves the last completed one, already encoded), alert rules are evaluated,
alert changes stored and notified, and metric samples written to the history, with
retention. Reads never wait for a cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import orjson
from prometheus_client import CollectorRegistry

from stockyard import __version__
from stockyard.config import Settings
from stockyard.core import Clock, WallClock
from stockyard.health._alerts import (
    Alert,
    AlertEngine,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    AlertState,
    default_rules,
    load_rules,
    merge_rules,
)
from stockyard.health._checks import builtin_health_checks
from stockyard.health._history import (
    AlertStore,
    InMemoryAlertStore,
    InMemoryMetricsHistory,
    MetricSample,
    MetricsHistory,
    samples_from_report,
)
from stockyard.health._model import HealthCheck, HealthReport, HealthStatus
from stockyard.health._notify import Notifier, build_notifiers
from stockyard.health._prometheus import HealthCollector
from stockyard.health._runner import CheckRunner, HealthRegistry
from stockyard.obs._logging import get_logger
from stockyard.obs._metrics import metrics_registry
from stockyard.resilience import (
    BreakerRegistry,
    ErrorRegistry,
    default_breaker_registry,
    default_error_registry,
)

__all__ = ["HealthService", "rules_from_settings"]

_log = get_logger("health")
_PRUNE_EVERY = timedelta(hours=1)


def rules_from_settings(settings: Settings) -> list[AlertRule]:
    """The default rules (unless turned off), merged with the rules file's."""
    alerts = settings.alerts
    rules = default_rules() if alerts.default_rules else []
    if alerts.rules_file is not None:
        rules = merge_rules(rules, load_rules(alerts.rules_file))
    return rules


class HealthService:
    """Runs the checks in the background and answers every health question from memory."""

    def __init__(
        self,
        *,
        registry: HealthRegistry,
        interval: float,
        timeout: float,
        history: MetricsHistory | None = None,
        alerts: AlertStore | None = None,
        rules: Iterable[AlertRule] = (),
        notifiers: Sequence[Notifier] = (),
        clock: Clock | None = None,
        retention: timedelta = timedelta(days=7),
        notify_timeout: float = 5.0,
        errors: ErrorRegistry | None = None,
        breakers: BreakerRegistry | None = None,
        metrics: CollectorRegistry | None = None,
        version: str = __version__,
        service_id: str | None = None,
    ) -> None:
        self.registry = registry
        self.interval = interval
        self.history: MetricsHistory = history if history is not None else InMemoryMetricsHistory()
        self.alert_store: AlertStore = alerts if alerts is not None else InMemoryAlertStore()
        self.engine = AlertEngine(rules, clock=clock)
        self.notifiers = list(notifiers)
        self.errors_registry = errors or default_error_registry()
        self.breakers = breakers or default_breaker_registry()
        self.metrics_registry = metrics if metrics is not None else metrics_registry()
        self.version = version
        self.service_id = service_id or f"stockyard@{socket.gethostname()}"
        self._runner = CheckRunner(registry, timeout=timeout, clock=clock)
        self._clock = clock if clock is not None else WallClock()
        self._retention = retention
        self._notify_timeout = notify_timeout
        self._raised: Counter[AlertSeverity] = Counter()
        self._report: HealthReport | None = None
        self._detailed = b""
        self._summary = b""
        self._last_cycle_end = 0.0
        self._last_prune: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._collector = HealthCollector(
            report=lambda: self._report,
            firing=self.engine.firing,
            raised=lambda: dict(self._raised),
            breakers=self.breakers,
            errors=self.errors_registry,
        )
        self._collecting = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        history: MetricsHistory | None = None,
        alerts: AlertStore | None = None,
        extra_checks: Iterable[HealthCheck] = (),
        clock: Clock | None = None,
        metrics: CollectorRegistry | None = None,
    ) -> HealthService:
        """A service with the built-in checks, the configured rules and notifiers."""
        registry = HealthRegistry([*builtin_health_checks(settings), *extra_checks])
        return cls(
            registry=registry,
            interval=settings.health.check_interval,
            timeout=settings.health.check_timeout,
            history=history,
            alerts=alerts,
            rules=rules_from_settings(settings),
            notifiers=build_notifiers(settings),
            clock=clock,
            retention=timedelta(days=settings.alerts.retention_days),
            notify_timeout=settings.alerts.notify_timeout,
            metrics=metrics,
        )

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Run the first cycle, then keep running one every interval in the background."""
        if self._task is not None:
            return
        if not self._collecting:
            self.metrics_registry.register(self._collector)
            self._collecting = True
        await self.run_now()
        self._task = asyncio.create_task(self._loop(), name="health-checks")

    async def stop(self) -> None:
        """Stop the background task and the metrics collector."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._collecting:
            self.metrics_registry.unregister(self._collector)
            self._collecting = False

    @property
    def running(self) -> bool:
        """Whether the background task is alive."""
        return self._task is not None and not self._task.done()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self.interval  # start() has run the first cycle
        while True:
            await asyncio.sleep(delay)
            began = loop.time()
            try:
                await self.run_now()
            except Exception as exc:  # the loop outlives any one bad cycle
                _log.exception("health cycle failed", error=str(exc))
            delay = max(0.0, self.interval - (loop.time() - began))

    async def run_now(self) -> HealthReport:
        """Run every check now, publish the report, evaluate alerts, sample metrics."""
        report = await self._runner.run_once()
        self._publish(report)
        events = self.engine.evaluate(report)
        if events:
            await self._handle(events)
        await self._sample(report)
        return report

    def _publish(self, report: HealthReport) -> None:
        body = report.to_ietf(version=self.version, service_id=self.service_id)
        self._detailed = orjson.dumps(body)
        self._summary = orjson.dumps({"status": report.status.value})
        self._report = report
        self._last_cycle_end = time.monotonic()

    async def _handle(self, events: Sequence[AlertEvent]) -> None:
        for event in events:
            if event.kind == "raised":
                self._raised[event.alert.severity] += 1
            try:
                await asyncio.to_thread(self.alert_store.save, event.alert)
            except Exception as exc:  # the store may be what is down
                _log.error("alert not stored", alert_id=event.alert.id, error=str(exc))
        await asyncio.gather(*(self._deliver(n, e) for e in events for n in self.notifiers))

    async def _deliver(self, notifier: Notifier, event: AlertEvent) -> None:
        try:
            await asyncio.wait_for(notifier.notify(event), self._notify_timeout)
        except Exception as exc:  # one notifier's failure never stops the others
            _log.warning(
                "alert notification failed",
                notifier=notifier.name,
                alert_id=event.alert.id,
                error=f"{type(exc).__name__}: {exc}",
            )

    async def _sample(self, report: HealthReport) -> None:
        try:
            await asyncio.to_thread(self.history.add, samples_from_report(report))
            now = self._clock.now()
            if self._last_prune is None or now - self._last_prune >= _PRUNE_EVERY:
                self._last_prune = now
                horizon = now - self._retention
                await asyncio.to_thread(self.history.prune, horizon)
                await asyncio.to_thread(self.alert_store.prune, horizon)
        except Exception as exc:  # the history is best effort; the checks go on
            _log.error("metric history not written", error=str(exc))

    # -- the read side (cheap, never waits for a cycle) ----------------------------------

    @property
    def report(self) -> HealthReport | None:
        """The last completed report; None before the first cycle."""
        return self._report

    def status(self) -> HealthStatus:
        """The overall status; warn before the first cycle."""
        return HealthStatus.WARN if self._report is None else self._report.status

    def summary_json(self) -> bytes:
        """``{"status": ...}`` encoded, for ``GET /health``."""
        return self._summary or b'{"status":"warn"}'

    def detailed_json(self) -> bytes:
        """The ``application/health+json`` body, encoded once per cycle."""
        if not self._detailed:
            pending = {"status": "warn", "version": self.version, "serviceId": self.service_id}
            return orjson.dumps({**pending, "output": "checks not run yet", "checks": {}})
        return self._detailed

    def component_names(self) -> list[str]:
        """Every component in the last report (or registered, before the first)."""
        if self._report is None:
            return sorted({c.component for c in self.registry.checks()})
        return self._report.components

    def component(self, name: str) -> dict[str, object] | None:
        """One component's checks in the IETF shape; None when unknown."""
        report = self._report
        if report is None:
            return None
        checks = {k: r for k, r in report.checks.items() if r.component == name}
        if not checks:
            return None
        status = HealthStatus.worst([r.status for r in checks.values()])
        return {
            "component": name,
            "status": status.value,
            "checks": {k: r.to_ietf() for k, r in sorted(checks.items())},
        }

    def metrics(
        self, *, since: datetime | None = None, component: str | None = None, limit: int = 1000
    ) -> list[MetricSample]:
        """Sampled metrics from the history (a blocking read: call it from a thread)."""
        return self.history.query(since=since, component=component, limit=limit)

    def alerts(
        self,
        *,
        severity: AlertSeverity | None = None,
        since: datetime | None = None,
        state: AlertState | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Recent alerts, newest first (a blocking read: call it from a thread)."""
        return self.alert_store.query(severity=severity, since=since, state=state, limit=limit)

    def acknowledge(self, alert_id: str) -> Alert | None:
        """Acknowledge an alert by id; None when there is no such alert."""
        now = self._clock.now()
        alert = self.engine.acknowledge(alert_id, now)
        if alert is None:
            stored = self.alert_store.get(alert_id)
            if stored is None:
                return None
            alert = stored if stored.acknowledged_at else replace(stored, acknowledged_at=now)
        self.alert_store.save(alert)
        return alert

    def errors(self) -> dict[str, object]:
        """The error registry, breaker states and recovery actions."""
        snapshot = self.errors_registry.snapshot()
        return {
            **snapshot,
            "breakers": self.breakers.snapshot(),
        }

    def live(self) -> tuple[bool, str]:
        """Alive: the background task runs and finished a cycle recently."""
        if not self.running:
            return False, "health checks are not running"
        age = time.monotonic() - self._last_cycle_end
        limit = 3 * self.interval + 2 * self._runner.timeout
        if age > limit:
            return False, f"no check cycle finished for {age:.1f} s"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        """Ready: a cycle has run and no required check fails."""
        report = self._report
        if report is None:
            return False, "checks not run yet"
        failing = [
            k for k, r in report.checks.items() if r.required and r.status is HealthStatus.FAIL
        ]
        if failing:
            return False, "failing: " + ", ".join(sorted(failing))
        return True, "ok"
