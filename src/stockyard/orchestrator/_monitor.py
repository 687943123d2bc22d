"""Watching the processes: health checks, alerts on crashes, FATAL and limit breaches, and
process state changes as events (topic ``sys.process``)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from stockyard.core import Clock, WallClock
from stockyard.health import (
    AlertEngine,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    CheckReport,
    HealthCheck,
    HealthReport,
    HealthStatus,
    Observation,
)
from stockyard.obs import get_logger
from stockyard.orchestrator._rpc import SupervisorRefusedError, SupervisorUnavailableError
from stockyard.orchestrator._supervisor import ProcessInfo, Supervisor

__all__ = [
    "PROCESS_ALERT_TOPIC",
    "PROCESS_TOPIC",
    "ProcessEvent",
    "ProcessMonitor",
    "process_checks",
    "process_rules",
]

PROCESS_TOPIC = "sys.process"
PROCESS_ALERT_TOPIC = "sys.alert"
_MIB = 1024 * 1024
_CRASHED = re.compile(r"exited: (\S+) \((.*?); not expected\)")
_log = get_logger("system")


@dataclass(frozen=True, slots=True)
class ProcessEvent:
    """A process changed state (or crashed and was restarted between two looks)."""

    name: str
    previous: str | None
    state: str
    pid: int | None
    at: datetime
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable, time as ISO 8601."""
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


def process_rules() -> list[AlertRule]:
    """Alerts on processes: down (or crashed since the last look) and over a limit."""
    return [
        AlertRule(
            name="process-down",
            severity=AlertSeverity.CRITICAL,
            check="processes:state",
            status=HealthStatus.WARN,
            cooldown_s=0.0,
            description="a process crashed, is in BACKOFF or FATAL, or a critical one is down",
        ),
        AlertRule(
            name="process-limit",
            check="processes:limits",
            cooldown_s=0.0,
            description="a process tree is over its CPU or memory limit",
        ),
    ]


def _state_observation(info: ProcessInfo, crashed: int) -> Observation:
    text = f"{info.state} pid {info.pid or '-'}"
    if info.state == "RUNNING" and not crashed:
        status = HealthStatus.PASS
    elif crashed:
        status = HealthStatus.FAIL if info.critical else HealthStatus.WARN
        text += f"; crashed {crashed} time(s) since the last look"
    elif info.state in ("STARTING", "STOPPING"):  # on its way; a crash is counted apart
        status = HealthStatus.PASS
    elif info.state in ("BACKOFF", "FATAL", "EXITED", "UNKNOWN"):
        status = HealthStatus.FAIL if info.critical else HealthStatus.WARN
    else:  # STOPPED by a person
        status = HealthStatus.FAIL if info.critical else HealthStatus.PASS
    if info.state in ("FATAL", "BACKOFF") and info.description:
        text += f": {info.description}"
    return Observation(status, info.state, None, text, info.name)


def _limit_observation(supervisor: Supervisor, info: ProcessInfo) -> Observation | None:
    limits = supervisor.table[info.name].limits
    if limits.cpu_percent is None and limits.memory_mb is None:
        return None
    breaches = []
    if limits.cpu_percent is not None and info.cpu_percent > limits.cpu_percent:
        breaches.append(f"CPU {info.cpu_percent:g}% > {limits.cpu_percent:g}%")
    rss_mb = info.rss_bytes / _MIB
    if limits.memory_mb is not None and rss_mb > limits.memory_mb:
        breaches.append(f"memory {rss_mb:.0f} MiB > {limits.memory_mb:g} MiB")
    if breaches:
        text = "; ".join(breaches) + f" (action: {limits.action})"
        return Observation(HealthStatus.FAIL, len(breaches), None, text, info.name)
    return Observation(HealthStatus.PASS, 0, None, "within limits", info.name)


class ProcessMonitor:
    """Looks at every process each ``poll()``: publishes state changes, raises and resolves
    alerts, applies the ``restart`` action of a breached limit, and keeps the latest
    observations for the health checks (``process_checks``)."""

    def __init__(
        self,
        supervisor: Supervisor,
        *,
        publish: Callable[[str, object], None] | None = None,
        notify: Callable[[AlertEvent], None] | None = None,
        rules: Sequence[AlertRule] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.supervisor = supervisor
        self._clock: Clock = clock if clock is not None else WallClock()
        self.engine = AlertEngine(process_rules() if rules is None else rules, clock=self._clock)
        self._publish = publish
        self._notify = notify
        self._states: dict[str, str] = {}
        self._log_offset = self._log_size()
        self.latest: list[ProcessInfo] = []
        self.report: HealthReport | None = None
        self.alert_events: list[AlertEvent] = []
        self.reachable = True

    def _log_size(self) -> int:
        try:
            return self.supervisor.paths.supervisord_log.stat().st_size
        except FileNotFoundError:
            return 0

    def _crashes(self) -> dict[str, int]:
        path = self.supervisor.paths.supervisord_log
        try:
            with path.open("rb") as log:
                size = log.seek(0, 2)
                log.seek(self._log_offset if size >= self._log_offset else 0)
                text = log.read().decode(errors="replace")
                self._log_offset = log.tell()
        except FileNotFoundError:
            return {}
        crashes: dict[str, int] = {}
        for match in _CRASHED.finditer(text):
            crashes[match.group(1)] = crashes.get(match.group(1), 0) + 1
        return crashes

    def poll(self, *, evaluate: bool = True) -> list[ProcessEvent]:
        """One look; returns the state changes seen (also published). ``evaluate=False``
        publishes the changes only (a deliberate shutdown raises no alert)."""
        now = self._clock.now()
        try:
            infos = self.supervisor.processes()
        except SupervisorUnavailableError:
            self.reachable = False
            return []
        self.reachable = True
        crashes = self._crashes()
        events = self._changes(infos, crashes, now)
        self.latest = infos
        if not evaluate:
            return events
        self.report = self._report(infos, crashes, now)
        self.alert_events = self.engine.evaluate(self.report)
        for alert_event in self.alert_events:
            if self._publish is not None:
                self._publish(
                    PROCESS_ALERT_TOPIC, {"kind": alert_event.kind, **alert_event.alert.to_dict()}
                )
            if self._notify is not None:
                self._notify(alert_event)
        self._apply_limits()
        return events

    def _changes(
        self, infos: list[ProcessInfo], crashes: dict[str, int], now: datetime
    ) -> list[ProcessEvent]:
        events = []
        for info in infos:
            previous = self._states.get(info.name)
            if crashes.get(info.name):
                events.append(
                    ProcessEvent(info.name, previous, "EXITED", None, now, "crashed (not expected)")
                )
                previous = "EXITED"
            if previous != info.state:
                events.append(ProcessEvent(info.name, previous, info.state, info.pid, now))
            self._states[info.name] = info.state
        for event in events:
            _log.info("process state", **{k: v for k, v in event.to_dict().items() if v})
            if self._publish is not None:
                self._publish(PROCESS_TOPIC, event.to_dict())
        return events

    def _report(
        self, infos: list[ProcessInfo], crashes: dict[str, int], now: datetime
    ) -> HealthReport:
        states = tuple(_state_observation(i, crashes.get(i.name, 0)) for i in infos)
        limits = tuple(o for i in infos if (o := _limit_observation(self.supervisor, i)))
        checks = {"processes:state": states}
        if limits:
            checks["processes:limits"] = limits
        return HealthReport(
            checks={
                key: CheckReport(key, "processes", "system", True, obs, now, 0.0)
                for key, obs in checks.items()
            },
            time=now,
            duration_ms=0.0,
        )

    def _apply_limits(self) -> None:
        for event in self.alert_events:
            alert = event.alert
            if event.kind != "raised" or alert.rule != "process-limit":
                continue
            name = alert.subject.rsplit("/", 1)[-1]
            if (
                name in self.supervisor.table
                and self.supervisor.table[name].limits.action == "restart"
            ):
                _log.warning("restarting a process over its limit", process=name)
                with contextlib.suppress(SupervisorRefusedError, SupervisorUnavailableError):
                    self.supervisor.rpc.stop(name, wait=True)
                    self.supervisor.rpc.start(name, wait=False)


def process_checks(supervisor: Supervisor, *, max_age_s: float = 0.5) -> list[HealthCheck]:
    """``processes:state`` (a critical process not RUNNING is fail), ``processes:cpu`` (%),
    ``processes:memory`` (bytes, the tree's RSS) and ``processes:limits``, for a health
    registry (the hub's). The processes are looked at once per ``max_age_s``."""
    cache: dict[str, tuple[float, list[ProcessInfo]]] = {}
    lock = threading.Lock()  # the runner calls the checks from threads at once

    def infos() -> list[ProcessInfo]:
        with lock:
            held = cache.get("infos")
            if held is None or time.monotonic() - held[0] > max_age_s:
                held = (time.monotonic(), supervisor.processes())
                cache["infos"] = held
            return held[1]

    def state() -> list[Observation]:
        try:
            return [_state_observation(i, 0) for i in infos()]
        except SupervisorUnavailableError as exc:
            return [Observation.failed(str(exc))]

    def cpu() -> list[Observation]:
        return [
            Observation(HealthStatus.PASS, i.cpu_percent, "%", f"{i.threads} threads", i.name)
            for i in infos()
            if i.pid
        ] or [Observation.passed("no process running")]

    def memory() -> list[Observation]:
        return [
            Observation(HealthStatus.PASS, i.rss_bytes, "B", f"{i.open_files} open files", i.name)
            for i in infos()
            if i.pid
        ] or [Observation.passed("no process running")]

    def limits() -> list[Observation]:
        found = [o for i in infos() if (o := _limit_observation(supervisor, i))]
        return found or [Observation.passed("no limits set")]

    return [
        HealthCheck("processes", "state", state, "system", description="supervised processes"),
        HealthCheck("processes", "cpu", cpu, "system", required=False),
        HealthCheck("processes", "memory", memory, "system", required=False),
        HealthCheck("processes", "limits", limits, "system", required=False),
    ]
