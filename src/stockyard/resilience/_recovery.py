"""Recovery strategies per error category, plugged in by the layers that know how to recover."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from stockyard.obs import get_logger
from stockyard.resilience._errors import ErrorCategory, StockyardError, classify
from stockyard.resilience._registry import (
    ErrorRegistry,
    RecoveryOutcome,
    RecoveryRecord,
    default_error_registry,
)
from stockyard.resilience._retry import async_retry_policy, retry_policy

__all__ = [
    "RecoveryAction",
    "RecoveryRegistry",
    "RecoveryResult",
    "reconnect_with_backoff",
    "reconnect_with_backoff_async",
]

T = TypeVar("T")

RecoveryAction = Callable[[StockyardError], bool | Awaitable[bool]]
"""Takes the (classified) error; returns or awaits True when it recovered."""


@dataclass(frozen=True, slots=True)
class RecoveryResult:
    """What `RecoveryRegistry.recover` did: whether it recovered, and every action taken."""

    recovered: bool
    actions: tuple[RecoveryRecord, ...]


class RecoveryRegistry:
    """Named recovery actions per error category, tried in registration order.

    Upper layers register the concrete actions (NETWORK: reconnect, DATA: fall back to the next
    source, TRADING: reconcile with the broker). Each action taken is logged and recorded in the
    error registry's recovery actions. An action that raises counts as ERRORED and the next one
    is tried.
    """

    def __init__(
        self, *, error_registry: ErrorRegistry | None = None, component: str = "system"
    ) -> None:
        self._errors = error_registry if error_registry is not None else default_error_registry()
        self._component = component
        self._lock = threading.Lock()
        self._actions: dict[ErrorCategory, list[tuple[str, RecoveryAction]]] = {}

    def register(self, category: ErrorCategory, name: str, action: RecoveryAction) -> None:
        """Add ``action`` as the last strategy for ``category``; names are unique per category."""
        with self._lock:
            actions = self._actions.setdefault(category, [])
            if any(existing == name for existing, _ in actions):
                raise ValueError(f"a recovery action {name!r} is already registered for {category}")
            actions.append((name, action))

    def unregister(self, category: ErrorCategory, name: str) -> None:
        """Remove the action called ``name`` from ``category`` (no error if absent)."""
        with self._lock:
            actions = self._actions.get(category, [])
            self._actions[category] = [(n, a) for n, a in actions if n != name]

    def actions(self, category: ErrorCategory) -> list[str]:
        """Names of the actions for ``category``, in the order they are tried."""
        with self._lock:
            return [name for name, _ in self._actions.get(category, [])]

    def _snapshot(self, category: ErrorCategory) -> list[tuple[str, RecoveryAction]]:
        with self._lock:
            return list(self._actions.get(category, []))

    def _note(
        self, exc: BaseException, *, name: str, outcome: RecoveryOutcome, detail: str = ""
    ) -> RecoveryRecord:
        record = self._errors.record_recovery(exc, action=name, outcome=outcome, detail=detail)
        log = get_logger(self._component)
        emit = log.info if outcome is RecoveryOutcome.SUCCEEDED else log.warning
        emit(
            "recovery_action",
            action=name,
            category=record.category.value,
            outcome=outcome.value,
            detail=detail,
        )
        return record

    def recover(self, exc: BaseException) -> RecoveryResult:
        """Run the actions for ``exc``'s category until one succeeds (sync actions only;
        an async action is recorded as ERRORED here: use `recover_async`)."""
        error = classify(exc)
        taken: list[RecoveryRecord] = []
        for name, action in self._snapshot(error.category):
            try:
                result = action(error)
            except Exception as action_exc:  # a failing action must not hide the others
                taken.append(
                    self._note(
                        exc, name=name, outcome=RecoveryOutcome.ERRORED, detail=repr(action_exc)
                    )
                )
                continue
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()  # never awaited: close it so no warning leaks
                taken.append(
                    self._note(
                        exc,
                        name=name,
                        outcome=RecoveryOutcome.ERRORED,
                        detail="async action; use recover_async",
                    )
                )
                continue
            outcome = RecoveryOutcome.SUCCEEDED if result else RecoveryOutcome.FAILED
            taken.append(self._note(exc, name=name, outcome=outcome))
            if result:
                return RecoveryResult(recovered=True, actions=tuple(taken))
        return RecoveryResult(recovered=False, actions=tuple(taken))

    async def recover_async(self, exc: BaseException) -> RecoveryResult:
        """Run the actions for ``exc``'s category until one succeeds, awaiting async ones.
        Sync actions run inline on the event loop, so they should be quick."""
        error = classify(exc)
        taken: list[RecoveryRecord] = []
        for name, action in self._snapshot(error.category):
            try:
                result = action(error)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as action_exc:  # a failing action must not hide the others
                taken.append(
                    self._note(
                        exc, name=name, outcome=RecoveryOutcome.ERRORED, detail=repr(action_exc)
                    )
                )
                continue
            outcome = RecoveryOutcome.SUCCEEDED if result else RecoveryOutcome.FAILED
            taken.append(self._note(exc, name=name, outcome=outcome))
            if result:
                return RecoveryResult(recovered=True, actions=tuple(taken))
        return RecoveryResult(recovered=False, actions=tuple(taken))


def reconnect_with_backoff(
    connect: Callable[[], T],
    *,
    max_attempts: int | None = None,
    component: str = "system",
    sleep: Callable[[float], None] | None = None,
    registry: ErrorRegistry | None = None,
) -> T:
    """Call ``connect`` under the NETWORK retry policy and return what it returns.

    Retryable failures are retried with exponential backoff and jitter; a fatal one (bad
    credentials, say) raises at once, and after the last attempt the last error is raised.
    """
    policy = retry_policy(
        ErrorCategory.NETWORK,
        max_attempts=max_attempts,
        component=component,
        sleep=sleep,
        registry=registry,
    )
    return policy(connect)


async def reconnect_with_backoff_async(
    connect: Callable[[], Awaitable[T]],
    *,
    max_attempts: int | None = None,
    component: str = "system",
    sleep: Callable[[float], Awaitable[None]] | None = None,
    registry: ErrorRegistry | None = None,
) -> T:
    """The asyncio twin of `reconnect_with_backoff`."""
    policy = async_retry_policy(
        ErrorCategory.NETWORK,
        max_attempts=max_attempts,
        component=component,
        sleep=sleep,
        registry=registry,
    )
    return await policy(connect)
