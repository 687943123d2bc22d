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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import cast

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric

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
from stockyard.health._model import (
    CheckReport,
    HealthCheck,
    HealthReport,
    HealthStatus,
    Observation,
)
from stockyard.health._notify import Notifier, build_notifiers
from stockyard.health._prometheus import HealthCollector
from stockyard.health._runner import CheckRunner, HealthRegistry
from stockyard.health._sources import (
    HealthSource,
    SourceReport,
    merge_errors,
    merged_families,
    unreachable,
)
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
        process: str = "hub",
    ) -> None:
        self.registry = registry
        self.process = process
        self.interval = interval
        self.history: MetricsHistory = history if history is not None else InMemoryMetricsHistory()
        self.alert_store: AlertStore = alerts if alerts is not None else InMemoryAlertStore()
        self.engine = AlertEngine(rules, clock=clock)
        self.notifiers = list(notifiers)
        # called with each cycle's report (the hub puts changes on its event stream)
        self.report_listeners: list[Callable[[HealthReport], None]] = []
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
        self._sources: dict[str, HealthSource] = {}
        self._sourced: dict[str, SourceReport] = {}
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

    # -- other parts' health -------------------------------------------------------------

    def add_source(self, source: HealthSource) -> None:
        """Merge ``source``'s checks, errors, breakers and metrics into every cycle from
        now on (a source of the same name is replaced)."""
        self._sources[source.name] = source

    def sources(self) -> list[str]:
        """The names of the merged parts."""
        return sorted(self._sources)

    async def _collect(self, source: HealthSource) -> SourceReport:
        # A part runs its own checks under the same timeout: give it that and a margin.
        limit = self._runner.timeout * 1.5 + 1.0
        try:
            return await asyncio.wait_for(source.collect(), limit)
        except TimeoutError:
            reason = f"no answer in {limit:g} s"
        except Exception as exc:  # any failure to answer is what the report says
            reason = f"{type(exc).__name__}: {exc}"
        return unreachable(source.name, reason, at=self._clock.now())

    async def run_once(self) -> HealthReport:
        """Run every check and collect every part now; the merged report (nothing else)."""
        sources = list(self._sources.values())
        own, parts = await asyncio.gather(
            self._runner.run_once(), asyncio.gather(*(self._collect(s) for s in sources))
        )
        sourced = {s.name: part for s, part in zip(sources, parts, strict=True)}
        self._sourced = sourced
        if not sourced:
            return own
        checks = dict(own.checks)
        claimed = {b for part in sourced.values() if part.shared for b in part.breakers}
        breakers = checks.get("breakers:state")
        if breakers is not None and claimed:  # a node's breaker is shown as the node's only
            checks["breakers:state"] = _unclaimed(breakers, claimed)
        for part in sourced.values():
            checks.update(part.checks)
        return replace(own, checks=checks)

    async def run_now(self) -> HealthReport:
        """Run every check now, publish the report, evaluate alerts, sample metrics."""
        report = await self.run_once()
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
        for listener in self.report_listeners:
            try:
                listener(report)
            except Exception as exc:  # a listener's failure never stops the health cycle
                _log.error("health report listener failed", error=repr(exc))

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
        """The error registries (this process's and every part's, merged: see
        ``merge_errors``), every breaker's state and the recovery actions."""
        others = {n: r.errors for n, r in self._sourced.items() if r.errors is not None}
        snapshot = merge_errors(self.errors_registry.snapshot(), self.process, others)
        return {**snapshot, "breakers": self.breaker_states()}

    def breaker_states(self) -> dict[str, dict[str, object]]:
        """Every breaker of the system by name: this process's own, and each part's named
        ``PART:NAME`` (``node@sandbox:alpaca.trading``), each with the process it is in."""
        parts = self._sourced
        claimed = {b for r in parts.values() if r.shared for b in r.breakers}
        out: dict[str, dict[str, object]] = {
            name: {**state, "process": self.process}
            for name, state in self.breakers.snapshot().items()
            if name not in claimed
        }
        for part, report in sorted(parts.items()):
            process = self.process if report.shared else part
            for name, state in report.breakers.items():
                out[f"{part}:{name}"] = {**state, "process": process, "owner": part}
        return out

    async def reset_breaker(self, name: str) -> dict[str, object] | None:
        """Close a breaker by hand, this process's or a part's (``PART:NAME``); None when
        there is no such breaker."""
        part, _, inner = name.partition(":")
        source = self._sources.get(part) if inner else None
        if source is not None:
            state = await source.reset_breaker(inner)
            return None if state is None else dict(state)
        if name not in self.breakers.names():
            return None
        breaker = self.breakers.get(name)
        breaker.reset()
        return breaker.snapshot()

    def prometheus_text(self) -> bytes:
        """``/metrics``: this process's registry, with every other process's metrics merged
        in, each of their samples labelled ``process``."""
        others = {n: r.metrics for n, r in self._sourced.items() if r.metrics}
        if not others:
            return generate_latest(self.metrics_registry)
        families = merged_families(self.metrics_registry.collect(), others)
        return generate_latest(cast(CollectorRegistry, _Families(families)))

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


def _unclaimed(check: CheckReport, claimed: set[str]) -> CheckReport:
    kept = tuple(o for o in check.observations if o.component_id not in claimed)
    if not kept:
        kept = (Observation.passed("no circuit breakers registered", value="none"),)
    return replace(check, observations=kept)


class _Families:
    """Metric families already collected, in the shape ``generate_latest`` reads."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families
