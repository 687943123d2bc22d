"""The processes of a supervised system (``stockyard up`` under supervisord): list them, and
start, stop or restart one or all, audited, with the ``admin`` scope.

The service drives anything with the ``Supervisor``'s interface (``ProcessControl``); in
single-process mode there is none and every call answers 503.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from stockyard.obs import get_logger
from stockyard.orchestrator import NotReadyError, ProcessInfo, SupervisorRefusedError
from stockyard.services._access import Auditor, Caller
from stockyard.services._errors import ServiceError
from stockyard.store import KeyScope

__all__ = ["ProcessControl", "ProcessService", "ProcessView", "ResourceSample"]

_log = get_logger("system")

T = TypeVar("T")

_NO_SUPERVISOR = "this hub runs no process supervisor (single-process mode)"


class ProcessControl(Protocol):
    """What the service needs of a process supervisor (``orchestrator.Supervisor`` has it).
    An unknown name raises ``KeyError``; supervisord not answering raises ``OSError``."""

    def processes(self) -> list[ProcessInfo]: ...

    def start(self, name: str) -> ProcessInfo: ...

    def stop(self, name: str) -> ProcessInfo: ...

    def restart(self, name: str) -> ProcessInfo: ...

    def start_all(self) -> list[ProcessInfo]: ...

    def stop_all(self) -> list[ProcessInfo]: ...


class ProcessView(BaseModel):
    """One process: supervisord's state name and pid, and measured resources (the process
    and its children)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
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


def _view(info: ProcessInfo) -> ProcessView:
    return ProcessView.model_validate(info.to_dict())


def _views(found: Sequence[ProcessInfo]) -> list[ProcessView]:
    return [_view(info) for info in found]


class ResourceSample(BaseModel):
    """One process's CPU (%, 100 per busy core) and memory (RSS, bytes) at ``time``."""

    model_config = ConfigDict(frozen=True)

    time: datetime
    cpu: float
    rss: int


class ProcessService:
    """Reads and drives the processes through ``supervisor`` (None: single-process mode).

    ``start_sampling`` keeps, per process, a ring of its resource samples (one every
    ``interval_s``, the last ``keep``) for the sparklines, and announces each round on the
    event stream (topic ``processes``, ``{"kind": "resources"}``), and each change of a
    process's state seen between rounds (``{"kind": "state", "name", "from", "to", "pid"}``;
    the first round tells every process's state, ``from`` None)."""

    def __init__(self, supervisor: ProcessControl | None, *, auditor: Auditor) -> None:
        self.supervisor = supervisor
        self.auditor = auditor
        self._samples: dict[str, deque[ResourceSample]] = {}
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def start_sampling(
        self,
        publish: Callable[[str, dict[str, object]], object] | None = None,
        *,
        interval_s: float = 5.0,
        keep: int = 120,
    ) -> None:
        """Sample every process's resources every ``interval_s`` in a thread (once)."""
        if self._sampler is not None or self.supervisor is None:
            return
        control = self.supervisor

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    found = control.processes()
                except OSError as exc:  # supervisord away: no sample this round
                    _log.debug("no resource sample", error=str(exc))
                except Exception as exc:  # a sparkline must not end the sampling
                    _log.error("resource sampling failed", error=repr(exc))
                else:
                    self._record(found, keep)
                    changes = self._state_changes(found)
                    if publish is not None:
                        for change in changes:
                            publish("processes", change)
                        publish("processes", {"kind": "resources", "processes": len(found)})
                self._stop.wait(interval_s)

        self._sampler = threading.Thread(target=loop, name="process-sampler", daemon=True)
        self._sampler.start()

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(timeout=5.0)

    def _state_changes(self, found: Sequence[ProcessInfo]) -> list[dict[str, object]]:
        """The processes whose state differs from the last round's, as events."""
        changes: list[dict[str, object]] = []
        for info in found:
            before = self._states.get(info.name)
            if before != info.state:
                self._states[info.name] = info.state
                change: dict[str, object] = {"kind": "state", "name": info.name}
                changes.append({**change, "from": before, "to": info.state, "pid": info.pid})
        return changes

    def _record(self, found: Sequence[ProcessInfo], keep: int) -> None:
        now = datetime.now(UTC)
        with self._lock:
            for info in found:
                if not info.pid:  # not running: nothing measured
                    continue
                ring = self._samples.setdefault(info.name, deque(maxlen=keep))
                ring.append(ResourceSample(time=now, cpu=info.cpu_percent, rss=info.rss_bytes))

    def history(self) -> dict[str, list[ResourceSample]]:
        """Each process's resource samples, oldest first (empty before sampling starts)."""
        with self._lock:
            return {name: list(ring) for name, ring in self._samples.items()}

    @property
    def supervised(self) -> bool:
        """Whether a supervisor runs the processes."""
        return self.supervisor is not None

    def attach(self, supervisor: ProcessControl) -> None:
        """Drive ``supervisor`` from now on (a face given it after the services were built)."""
        self.supervisor = supervisor

    def _control(self) -> ProcessControl:
        if self.supervisor is None:
            raise ServiceError("no_supervisor", _NO_SUPERVISOR, status=503)
        return self.supervisor

    async def _run(self, what: str, call: Callable[[], T]) -> T:
        """``call`` off the event loop, its failures as ServiceErrors."""
        try:
            return await run_in_threadpool(call)
        except KeyError as exc:
            message = str(exc.args[0]) if exc.args else what
            raise ServiceError("unknown_process", message, status=404) from None
        except NotReadyError as exc:
            raise ServiceError("process_not_ready", f"{what}: {exc}", status=409) from None
        except SupervisorRefusedError as exc:
            raise ServiceError("process_refused", f"{what}: {exc}", status=409) from None
        except OSError as exc:
            message = f"{what}: supervisord does not answer ({exc})"
            raise ServiceError("supervisor_unavailable", message, status=503) from None

    async def processes(self) -> list[ProcessView]:
        """Every process of the table, in start order (503 without a supervisor)."""
        control = self._control()
        return _views(await self._run("list processes", control.processes))

    async def start(self, name: str, *, caller: Caller) -> ProcessView:
        """Start ``name`` and wait for its readiness probe (admin)."""
        return await self._one("start", name, caller)

    async def stop(self, name: str, *, caller: Caller) -> ProcessView:
        """Stop ``name`` (admin)."""
        return await self._one("stop", name, caller)

    async def restart(self, name: str, *, caller: Caller) -> ProcessView:
        """Stop, then start ``name`` and wait for its readiness (admin)."""
        return await self._one("restart", name, caller)

    async def start_all(self, *, caller: Caller) -> list[ProcessView]:
        """Start every process in dependency order (admin)."""
        return await self._all("start", caller)

    async def stop_all(self, *, caller: Caller) -> list[ProcessView]:
        """Stop every process in reverse dependency order (admin)."""
        return await self._all("stop", caller)

    async def _one(self, verb: str, name: str, caller: Caller) -> ProcessView:
        async def work() -> ProcessView:
            control = self._control()
            act: Callable[[str], ProcessInfo] = getattr(control, verb)
            return _view(await self._run(f"{verb} {name}", lambda: act(name)))

        return await self.auditor.call(
            caller, f"processes.{verb}", {"name": name}, work, scope=KeyScope.ADMIN
        )

    async def _all(self, verb: str, caller: Caller) -> list[ProcessView]:
        async def work() -> list[ProcessView]:
            control = self._control()
            act = control.start_all if verb == "start" else control.stop_all
            return _views(await self._run(f"{verb} all", act))

        return await self.auditor.call(
            caller, f"processes.{verb}_all", {}, work, scope=KeyScope.ADMIN
        )
