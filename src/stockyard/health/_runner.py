"""The check registry and the runner: every check concurrently, each under its own timeout.

Sync checks run each in a daemon thread of their own rather than in ``asyncio.to_thread``:
a check that hangs can then neither block the event loop, nor starve the loop's default
executor, nor hold up interpreter exit (the executors' worker threads are joined at exit).
While a hung check's thread is still busy, later cycles report it failed instead of
starting another thread.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import cast

from stockyard.core import Clock, WallClock
from stockyard.health._model import (
    CheckReport,
    HealthCheck,
    HealthReport,
    HealthStatus,
    Observation,
)

__all__ = ["CheckRunner", "HealthRegistry", "worst_required"]

_Result = Observation | Sequence[Observation]


class HealthRegistry:
    """Named checks, keyed ``component:measurement``. Thread-safe; later layers add theirs."""

    def __init__(self, checks: Iterable[HealthCheck] = ()) -> None:
        self._lock = threading.Lock()
        self._checks: dict[str, HealthCheck] = {}
        for check in checks:
            self.add(check)

    def add(self, check: HealthCheck, *, replace: bool = False) -> None:
        """Register ``check``; a second check with the same key is refused unless ``replace``."""
        with self._lock:
            if check.key in self._checks and not replace:
                raise ValueError(f"health check {check.key!r} is already registered")
            self._checks[check.key] = check

    def remove(self, key: str) -> None:
        """Forget the check with this key (no error when absent)."""
        with self._lock:
            self._checks.pop(key, None)

    def checks(self) -> list[HealthCheck]:
        """The registered checks, in the order they were added."""
        with self._lock:
            return list(self._checks.values())

    @property
    def keys(self) -> list[str]:
        """Registered keys, in the order they were added."""
        with self._lock:
            return list(self._checks)

    def __len__(self) -> int:
        with self._lock:
            return len(self._checks)


def _is_async(function: object) -> bool:
    call = getattr(function, "__call__", None)  # noqa: B004 - async callable objects count too
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


class CheckRunner:
    """Runs a registry's checks concurrently, each with a timeout; never raises for a check."""

    def __init__(
        self,
        registry: HealthRegistry,
        *,
        timeout: float,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry
        self.timeout = timeout
        self._clock = clock if clock is not None else WallClock()
        self._busy: dict[str, tuple[Future[_Result], float]] = {}
        self._cycle = 0

    async def run_once(self) -> HealthReport:
        """Run every registered check now and gather the results into one report."""
        begin = time.perf_counter()
        checks = self.registry.checks()
        reports = await asyncio.gather(*(self.run_check(c) for c in checks))
        self._cycle += 1
        return HealthReport(
            checks={r.key: r for r in reports},
            time=self._clock.now(),
            duration_ms=round((time.perf_counter() - begin) * 1000, 3),
            cycle=self._cycle,
        )

    async def run_check(self, check: HealthCheck) -> CheckReport:
        """Run one check under its timeout; a timeout or an exception is a failed report."""
        timeout = check.timeout if check.timeout is not None else self.timeout
        begin = time.perf_counter()
        try:
            result = await self._call(check, timeout)
            observations = (result,) if isinstance(result, Observation) else tuple(result)
            if not observations or not all(isinstance(o, Observation) for o in observations):
                observations = (
                    Observation.failed(f"check returned {type(result).__name__}, not Observation"),
                )
        except TimeoutError:
            observations = (Observation.failed(f"timed out after {timeout:g} s"),)
        except _StillRunningError as busy:
            observations = (Observation.failed(str(busy)),)
        except Exception as exc:  # a crashing check is a failed check, never a crashed runner
            observations = (Observation.failed(f"check raised {type(exc).__name__}: {exc}"),)
        return CheckReport(
            key=check.key,
            component=check.component,
            component_type=check.component_type,
            required=check.required,
            observations=observations,
            time=self._clock.now(),
            duration_ms=round((time.perf_counter() - begin) * 1000, 3),
        )

    async def _call(self, check: HealthCheck, timeout: float) -> _Result:  # noqa: ASYNC109 - timeouts differ per check
        if _is_async(check.function):
            awaitable = cast(Awaitable[_Result], check.function())
            return await asyncio.wait_for(awaitable, timeout)
        busy = self._busy.get(check.key)
        if busy is not None and not busy[0].done():
            raise _StillRunningError(
                f"still running after {time.monotonic() - busy[1]:.1f} s (timed out earlier)"
            )
        future = _in_daemon_thread(cast(Callable[[], _Result], check.function), check.key)
        self._busy[check.key] = (future, time.monotonic())
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)


def _in_daemon_thread(function: Callable[[], _Result], name: str) -> Future[_Result]:
    future: Future[_Result] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to the awaiting task, which reports it
            future.set_exception(exc)

    threading.Thread(target=work, name=f"health-check:{name}", daemon=True).start()
    return future


class _StillRunningError(Exception):
    """The previous run of a sync check has not returned yet."""


def worst_required(report: HealthReport) -> HealthStatus:
    """The worst status among required checks only (readiness)."""
    return HealthStatus.worst([r.status for r in report.checks.values() if r.required])
