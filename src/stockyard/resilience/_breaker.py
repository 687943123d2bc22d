"""Circuit breakers per dependency, usable from sync and async code alike.

We write our own small breaker rather than use a library: pybreaker's async support goes
through Tornado coroutines rather than native asyncio, and purgatory offers sync and async
breakers as separate factories (one breaker object cannot serve both kinds of caller).
Neither classifies failures with our `classify`, so a bad-input error would need per-breaker
exclusion lists; and neither reports into our `BreakerRegistry` snapshot for the health API.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import ParamSpec, TypeVar, cast

from stockyard.obs import get_logger
from stockyard.resilience._errors import CircuitOpenError, ErrorCategory, classify
from stockyard.resilience._state_store import BreakerStateStore, SharedOpen

__all__ = [
    "BreakerRegistry",
    "CircuitBreaker",
    "CircuitState",
    "StateChange",
    "counts_as_failure",
    "default_breaker_registry",
]

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


class CircuitState(StrEnum):
    """CLOSED lets calls through, OPEN rejects them, HALF_OPEN lets trial calls through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One transition of one breaker; ``at`` is on the breaker's clock."""

    breaker: str
    old: CircuitState
    new: CircuitState
    reason: str
    at: float
    from_peer: bool = False


def counts_as_failure(exc: BaseException) -> bool:
    """The default failure test: retryable errors (network, 5xx, timeouts) trip a breaker;
    fatal ones (bad input, rejected orders, bugs) say nothing about the dependency's health."""
    return isinstance(exc, Exception) and classify(exc).retryable


class CircuitBreaker:
    """Protects one dependency: after ``failure_threshold`` failures within ``window_s`` it
    opens and rejects calls with `CircuitOpenError`; after ``cooldown_s`` it half-opens and
    lets trial calls through; ``success_threshold`` trial successes close it, a trial failure
    re-opens it. Errors that are not failures (see ``is_failure``) pass through uncounted.

    With ``max_cooldown_s`` the wait backs off: each failed trial doubles the next cooldown,
    up to ``max_cooldown_s``, and closing resets it to ``cooldown_s``. So a short first wait
    serves a flaky dependency that recovers at once, and a dead one is not hammered.

    With a ``state_store`` the OPEN state is shared by every breaker of the same name using that
    store; the store is read at most every ``store_sync_s`` seconds of ``clock``.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        success_threshold: int = 2,
        max_cooldown_s: float | None = None,
        category: ErrorCategory = ErrorCategory.NETWORK,
        is_failure: Callable[[BaseException], bool] = counts_as_failure,
        clock: Callable[[], float] = time.monotonic,
        state_store: BreakerStateStore | None = None,
        store_sync_s: float = 0.5,
        registry: BreakerRegistry | None = None,
    ) -> None:
        if failure_threshold < 1 or success_threshold < 1:
            raise ValueError("failure_threshold and success_threshold must be at least 1")
        if window_s <= 0 or cooldown_s <= 0:
            raise ValueError("window_s and cooldown_s must be positive")
        if max_cooldown_s is not None and max_cooldown_s < cooldown_s:
            raise ValueError("max_cooldown_s must be at least cooldown_s")
        self.name = name
        self.failure_threshold = failure_threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.success_threshold = success_threshold
        self.max_cooldown_s = max_cooldown_s
        self.category = category
        self._is_failure = is_failure
        self._clock = clock
        self._store = state_store
        self._store_sync_s = store_sync_s
        self._id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures: deque[float] = deque()
        self._half_open_at = 0.0
        self._cooldown = cooldown_s  # the next OPEN's wait (backs off with max_cooldown_s)
        self._trial_successes = 0
        self._last_sync: float | None = None
        self._store_ok = True
        self._listeners: list[Callable[[StateChange], None]] = []
        self._transitions: Counter[CircuitState] = Counter()
        self._counts: Counter[str] = Counter()
        if registry is not None:
            registry.register(self)

    # -- public surface ------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The state now (an OPEN breaker past its cooldown reads HALF_OPEN)."""
        with self._lock:
            if self._state is CircuitState.OPEN and self._clock() >= self._half_open_at:
                return CircuitState.HALF_OPEN
            return self._state

    def on_state_change(self, callback: Callable[[StateChange], None]) -> Callable[[], None]:
        """Call ``callback`` after every transition; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn`` through the breaker."""
        with self:
            return fn(*args, **kwargs)

    async def call_async(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Await ``fn(*args, **kwargs)`` through the breaker."""
        async with self:
            return await fn(*args, **kwargs)

    def __call__(self, fn: F) -> F:
        """Use the breaker as a decorator on a sync or async function."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: object, **kwargs: object) -> object:
                async with self:
                    return await fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: object, **kwargs: object) -> object:
            with self:
                return fn(*args, **kwargs)

        return cast(F, wrapper)

    def __enter__(self) -> CircuitBreaker:
        if self._sync_due():
            self._publish(self._apply_shared(self._read_store()))
        self._publish(self._admit())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._publish(self._settle(exc))

    async def __aenter__(self) -> CircuitBreaker:
        if self._sync_due():
            shared = await self._in_worker(self._read_store)
            await self._publish_async(self._apply_shared(shared))
        await self._publish_async(self._admit())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._publish_async(self._settle(exc))

    def reset(self) -> None:
        """Close the breaker now and forget its failures (an operator's action)."""
        with self._lock:
            changes: list[StateChange] = []
            if self._state is not CircuitState.CLOSED:
                self._transition(CircuitState.CLOSED, "reset", self._clock(), changes)
            self._failures.clear()
        self._publish(changes)

    def snapshot(self) -> dict[str, object]:
        """A JSON-serialisable view for the health API."""
        state = self.state
        with self._lock:
            now = self._clock()
            self._prune(now)
            return {
                "name": self.name,
                "state": state.value,
                "category": self.category.value,
                "failures_in_window": len(self._failures),
                "failure_threshold": self.failure_threshold,
                "window_s": self.window_s,
                "cooldown_s": self.cooldown_s,
                "next_cooldown_s": self._cooldown,
                "success_threshold": self.success_threshold,
                "seconds_until_half_open": (
                    max(0.0, self._half_open_at - now) if state is CircuitState.OPEN else 0.0
                ),
                "transitions": {s.value: self._transitions[s] for s in CircuitState},
                "calls": dict(self._counts),
                "shared": self._store is not None,
                "store_healthy": self._store_ok,
            }

    # -- state machine (all under the lock) ----------------------------------------------

    def _transition(
        self,
        new: CircuitState,
        reason: str,
        now: float,
        changes: list[StateChange],
        *,
        from_peer: bool = False,
    ) -> None:
        old, self._state = self._state, new
        self._transitions[new] += 1
        if new is CircuitState.OPEN:
            if old is CircuitState.HALF_OPEN and self.max_cooldown_s is not None:
                self._cooldown = min(self._cooldown * 2.0, self.max_cooldown_s)
            self._half_open_at = now + self._cooldown
        elif new is CircuitState.CLOSED:
            self._cooldown = self.cooldown_s
        self._failures.clear()
        self._trial_successes = 0
        changes.append(StateChange(self.name, old, new, reason, now, from_peer=from_peer))

    def _prune(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - self.window_s:
            self._failures.popleft()

    def _admit(self) -> list[StateChange]:
        changes: list[StateChange] = []
        with self._lock:
            now = self._clock()
            if self._state is CircuitState.OPEN:
                if now < self._half_open_at:
                    self._counts["rejected"] += 1
                    raise CircuitOpenError(
                        self.name, retry_after=self._half_open_at - now, category=self.category
                    )
                self._transition(CircuitState.HALF_OPEN, "cooldown elapsed", now, changes)
            self._counts["admitted"] += 1
        return changes

    def _settle(self, exc: BaseException | None) -> list[StateChange]:
        changes: list[StateChange] = []
        if exc is not None and not isinstance(exc, Exception):
            return changes  # cancellation and interpreter exit say nothing about the dependency
        failed = exc is not None and self._is_failure(exc)
        with self._lock:
            now = self._clock()
            if exc is None:
                self._counts["succeeded"] += 1
                if self._state is CircuitState.HALF_OPEN:
                    self._trial_successes += 1
                    if self._trial_successes >= self.success_threshold:
                        self._transition(CircuitState.CLOSED, "trial calls succeeded", now, changes)
            elif not failed:
                self._counts["ignored_errors"] += 1
            else:
                self._counts["failed"] += 1
                if self._state is CircuitState.HALF_OPEN:
                    self._transition(CircuitState.OPEN, "trial call failed", now, changes)
                elif self._state is CircuitState.CLOSED:
                    self._failures.append(now)
                    self._prune(now)
                    if len(self._failures) >= self.failure_threshold:
                        reason = f"{self.failure_threshold} failures within {self.window_s}s"
                        self._transition(CircuitState.OPEN, reason, now, changes)
        return changes

    # -- shared state -------------------------------------------------------------------

    def _sync_due(self) -> bool:
        if self._store is None:
            return False
        with self._lock:
            now = self._clock()
            if self._last_sync is not None and now - self._last_sync < self._store_sync_s:
                return False
            self._last_sync = now
            return True

    def _read_store(self) -> SharedOpen | None:
        assert self._store is not None  # only called after _sync_due()
        try:
            shared = self._store.read_open(self.name)
        except Exception as exc:  # a failing store must never fail the call
            self._store_failed(exc)
            return None
        self._store_ok = True
        return shared

    def _apply_shared(self, shared: SharedOpen | None) -> list[StateChange]:
        changes: list[StateChange] = []
        if shared is None or shared.owner == self._id:
            return changes
        with self._lock:
            now = self._clock()
            until = now + shared.remaining_s
            if self._state is CircuitState.OPEN:
                self._half_open_at = max(self._half_open_at, until)
            else:
                self._transition(
                    CircuitState.OPEN, "opened by a peer", now, changes, from_peer=True
                )
                self._half_open_at = until
        return changes

    def _store_ops(self, changes: list[StateChange]) -> list[Callable[[], None]]:
        store = self._store
        if store is None:
            return []
        ops: list[Callable[[], None]] = []
        for change in changes:
            if change.new is CircuitState.OPEN and not change.from_peer:
                ops.append(
                    functools.partial(
                        store.mark_open, self.name, owner=self._id, cooldown_s=self._cooldown
                    )
                )
            elif change.new is CircuitState.CLOSED:
                ops.append(functools.partial(store.clear, self.name, owner=self._id))
        return ops

    def _store_failed(self, exc: Exception) -> None:
        if self._store_ok:  # log the first failure of a run, not every call
            get_logger("system").warning(
                "breaker_store_unavailable", breaker=self.name, error=repr(exc)
            )
        self._store_ok = False

    async def _in_worker(self, fn: Callable[[], T]) -> T:
        store = self._store
        if store is not None and store.blocking:
            return await asyncio.to_thread(fn)
        return fn()

    # -- publishing (outside the lock) --------------------------------------------------

    def _run_op(self, op: Callable[[], None]) -> None:
        try:
            op()
        except Exception as exc:  # a failing store must never fail the call
            self._store_failed(exc)

    def _notify(self, changes: list[StateChange]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        logger = get_logger("system")
        for change in changes:
            log = logger.warning if change.new is CircuitState.OPEN else logger.info
            log(
                "circuit_state_changed",
                breaker=change.breaker,
                old=change.old.value,
                new=change.new.value,
                reason=change.reason,
            )
            for listener in listeners:
                try:
                    listener(change)
                except Exception as exc:  # one bad listener must not stop others
                    logger.error("breaker_listener_failed", breaker=self.name, error=repr(exc))

    def _publish(self, changes: list[StateChange]) -> None:
        if changes:
            for op in self._store_ops(changes):
                self._run_op(op)
            self._notify(changes)

    async def _publish_async(self, changes: list[StateChange]) -> None:
        if changes:
            for op in self._store_ops(changes):
                await self._in_worker(functools.partial(self._run_op, op))
            self._notify(changes)


class BreakerRegistry:
    """All breakers of a process by name, for lookup and the health API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def register(self, breaker: CircuitBreaker, *, replace: bool = False) -> None:
        """Add ``breaker``; a different breaker under the same name is an error unless
        ``replace`` (a component built again in the same process takes its name over)."""
        with self._lock:
            existing = self._breakers.get(breaker.name)
            if existing is not None and existing is not breaker and not replace:
                raise ValueError(f"a breaker named {breaker.name!r} is already registered")
            self._breakers[breaker.name] = breaker

    def get(self, name: str) -> CircuitBreaker:
        """The breaker called ``name``; KeyError if there is none."""
        with self._lock:
            return self._breakers[name]

    def names(self) -> list[str]:
        """Registered names, sorted."""
        with self._lock:
            return sorted(self._breakers)

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Every breaker's snapshot by name."""
        with self._lock:
            breakers = list(self._breakers.values())
        return {b.name: b.snapshot() for b in sorted(breakers, key=lambda b: b.name)}


_default_lock = threading.Lock()
_default: BreakerRegistry | None = None


def default_breaker_registry() -> BreakerRegistry:
    """The process-wide breaker registry, for code that is not handed one."""
    global _default  # noqa: PLW0603 - a lazily created process-wide default is the point
    with _default_lock:
        if _default is None:
            _default = BreakerRegistry()
        return _default
