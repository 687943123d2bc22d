"""``Supervisor``: the typed facade over supervisord that the CLI, services and API call."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from stockyard.config import Settings
from stockyard.orchestrator._paths import RunPaths
from stockyard.orchestrator._probe import LogMark, probe_once
from stockyard.orchestrator._resources import Resources, ResourceSampler
from stockyard.orchestrator._rpc import RawProcessInfo, SupervisorRefusedError, SupervisorRPC
from stockyard.orchestrator._table import ProcessKind, ProcessSpec, ProcessTable

__all__ = ["NotReadyError", "ProcessInfo", "Supervisor"]

# supervisord's fault codes (supervisor/xmlrpc.py Faults).
_BAD_NAME, _NOT_RUNNING, _ALREADY_STARTED = 10, 70, 60
_DOWN = ("STOPPED", "EXITED", "FATAL", "BACKOFF", "UNKNOWN")
_SPAWNED = re.compile(r"spawned: '([^']+)' with pid (\d+)")
_STARTED = "supervisord started with pid"


class NotReadyError(RuntimeError):
    """A process did not become ready (it died, or its probe never answered in time)."""


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One process as ``stockyard ps`` shows it: supervisord's view plus measured resources
    of the process and its children."""

    name: str
    kind: ProcessKind
    critical: bool
    state: str
    pid: int | None
    uptime_s: float | None
    restarts: int
    exitstatus: int
    description: str
    cpu_percent: float
    rss_bytes: int
    threads: int
    open_files: int

    @property
    def running(self) -> bool:
        """supervisord says RUNNING."""
        return self.state == "RUNNING"

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return asdict(self)


class Supervisor:
    """Controls the processes of one system through its supervisord.

    ``start`` waits for the process's readiness probe (not supervisord's ``startsecs``);
    ``start_all`` starts in dependency order, each once its dependencies are ready;
    ``stop_all`` stops in the reverse order. Raises ``SupervisorUnavailableError`` when the
    system is not up, ``KeyError`` for an unknown name, ``NotReadyError`` when a process
    does not become ready.
    """

    def __init__(self, table: ProcessTable, paths: RunPaths, *, rpc: SupervisorRPC | None = None):
        self.table = table
        self.paths = paths
        self.rpc = rpc if rpc is not None else SupervisorRPC(paths.socket)
        self.sampler = ResourceSampler()

    @classmethod
    def from_settings(cls, settings: Settings) -> Supervisor:
        """The supervisor of the system ``settings`` describe (``stockyard up`` runs it)."""
        assert settings.log.dir is not None  # filled from home by Settings
        return cls(
            ProcessTable.from_settings(settings), RunPaths.of(settings.home, settings.log.dir)
        )

    def close(self) -> None:
        """Close the connection to supervisord."""
        self.rpc.close()

    # -- reading -----------------------------------------------------------------------

    def processes(self, *, sample_s: float = 0.0) -> list[ProcessInfo]:
        """Every process of the table, in start order. ``sample_s`` > 0 measures CPU % over
        that window (otherwise over the time since this object's previous call)."""
        raw = {info.name: info for info in self.rpc.all_info()}
        if sample_s > 0:
            self.sampler.prime([r.pid for r in raw.values() if r.pid])
            time.sleep(sample_s)  # the CPU % window, not a wait for a condition
        restarts = self.restarts()
        return [
            self._info(self.table[name], raw.get(name), restarts.get(name, 0))
            for name in self.table.names
        ]

    def process(self, name: str) -> ProcessInfo:
        """One process (KeyError naming the table when unknown)."""
        spec = self.table[name]
        return self._info(spec, self.rpc.info(name), self.restarts().get(name, 0))

    def _info(self, spec: ProcessSpec, raw: RawProcessInfo | None, restarts: int) -> ProcessInfo:
        state = raw.state if raw is not None else "UNKNOWN"
        pid = raw.pid if raw is not None and raw.pid else None
        usage = self.sampler.sample(pid) if pid else Resources(0.0, 0, 0, 0, 0)
        uptime = None
        if raw is not None and pid and state in ("RUNNING", "STARTING", "STOPPING"):
            uptime = float(max(raw.now - raw.start, 0))
        return ProcessInfo(
            name=spec.name,
            kind=spec.kind,
            critical=spec.critical,
            state=state,
            pid=pid,
            uptime_s=uptime,
            restarts=restarts,
            exitstatus=raw.exitstatus if raw is not None else 0,
            description=raw.description if raw is not None else "",
            cpu_percent=usage.cpu_percent,
            rss_bytes=usage.rss_bytes,
            threads=usage.threads,
            open_files=usage.open_files,
        )

    def restarts(self) -> dict[str, int]:
        """Spawns past the first of each process since supervisord started (from its log)."""
        spawns: dict[str, int] = {}
        try:
            text = self.paths.supervisord_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return spawns
        start = text.rfind(_STARTED)
        for match in _SPAWNED.finditer(text, max(start, 0)):
            spawns[match.group(1)] = spawns.get(match.group(1), 0) + 1
        return {name: max(count - 1, 0) for name, count in spawns.items()}

    # -- control -----------------------------------------------------------------------

    def start(self, name: str, *, wait_ready: bool = True) -> ProcessInfo:
        """Start ``name`` (already running is fine) and wait until its probe answers."""
        spec = self.table[name]
        mark = LogMark(self.paths.process_log(name))
        try:
            self.rpc.start(name, wait=False)
        except SupervisorRefusedError as fault:
            if fault.code != _ALREADY_STARTED:
                raise
        if wait_ready:
            self.wait_ready(spec, mark)
        return self.process(name)

    def wait_ready(
        self, spec: ProcessSpec, mark: LogMark, *, timeout: float | None = None
    ) -> float:
        """Seconds until ``spec``'s probe answered; NotReadyError when the process went down
        for good (FATAL, EXITED, STOPPED) or the probe's timeout passed."""
        probe = spec.readiness
        begin = time.monotonic()
        deadline = begin + (probe.timeout_s if timeout is None else timeout)
        while True:
            info = self.rpc.info(spec.name)
            if info.state in ("FATAL", "EXITED", "STOPPED"):
                raise NotReadyError(
                    f"{spec.name} is {info.state}: {info.spawnerr or info.description}; "
                    f"see {self.paths.process_log(spec.name)}"
                )
            if info.state in ("RUNNING", "STARTING") and probe_once(probe, mark):
                return time.monotonic() - begin
            if time.monotonic() > deadline:
                raise NotReadyError(
                    f"{spec.name} was not ready within {deadline - begin:g} s "
                    f"({probe.kind} probe); see {self.paths.process_log(spec.name)}"
                )
            time.sleep(probe.period_s)  # the probe's period

    def stop(self, name: str) -> ProcessInfo:
        """Stop ``name`` (its stop signal to the whole group, SIGKILL after stopwaitsecs)."""
        self.table[name]
        try:
            self.rpc.stop(name, wait=True)
        except SupervisorRefusedError as fault:
            if fault.code != _NOT_RUNNING:
                raise
        return self.process(name)

    def restart(self, name: str) -> ProcessInfo:
        """Stop, then start and wait for readiness."""
        self.stop(name)
        return self.start(name)

    def start_all(
        self, *, on_ready: Callable[[ProcessSpec, float], None] | None = None
    ) -> list[ProcessInfo]:
        """Start every process in dependency order, each after its dependencies are ready;
        ``on_ready(spec, seconds)`` is called as each becomes ready."""
        for spec in self.table:
            begin = time.monotonic()
            self.start(spec.name)
            if on_ready is not None:
                on_ready(spec, time.monotonic() - begin)
        return self.processes()

    def stop_all(self) -> list[ProcessInfo]:
        """Stop every process in reverse dependency order."""
        for name in reversed(self.table.names):
            self.stop(name)
        return self.processes()

    # -- output ------------------------------------------------------------------------

    def tail(self, name: str, *, length: int = 16_384) -> str:
        """The last ``length`` bytes of ``name``'s captured output."""
        self.table[name]
        text, _offset, _overflow = self.rpc.tail(name, 0, length)
        return text

    def follow(
        self, name: str, *, length: int = 16_384, stopped: Callable[[], bool], period_s: float = 0.2
    ) -> Iterator[str]:
        """The last ``length`` bytes, then each new piece of output until ``stopped()``."""
        self.table[name]
        text, offset, _overflow = self.rpc.tail(name, 0, length)
        if text:
            yield text
        while not stopped():
            text, offset, _overflow = self.rpc.tail(name, offset, 65_536)
            if text:
                yield text
            else:
                time.sleep(period_s)  # new output is polled; supervisord has no push

    def log_path(self, name: str) -> Path:
        """Where ``name``'s output is captured."""
        self.table[name]
        return self.paths.process_log(name)
