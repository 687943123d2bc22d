"""Retry policies per error category, built on tenacity. The one table is `RETRY_POLICIES`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar, cast

import tenacity
from tenacity.wait import wait_base, wait_exponential_jitter

from stockyard.obs import get_logger
from stockyard.resilience._errors import ErrorCategory, classify
from stockyard.resilience._registry import ErrorRegistry

__all__ = [
    "RETRY_POLICIES",
    "RetryPolicy",
    "async_retry_policy",
    "is_retryable",
    "retry_policy",
    "retrying",
]

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one category retries: attempts in all, and exponential backoff with jitter.

    The n-th wait (n from 0) is ``min(base_wait_s * 2**n + uniform(0, jitter_s), max_wait_s)``;
    with ``honour_retry_after`` an error's own ``retry_after`` hint (rate limits, open
    circuits) replaces it, still capped at ``max_wait_s``.
    """

    max_attempts: int
    base_wait_s: float = 0.0
    max_wait_s: float = 0.0
    jitter_s: float = 0.0
    honour_retry_after: bool = False


# fmt: off
RETRY_POLICIES: Mapping[ErrorCategory, RetryPolicy] = MappingProxyType({
    ErrorCategory.NETWORK:    RetryPolicy(max_attempts=5, base_wait_s=0.5, max_wait_s=30.0,
                                          jitter_s=0.5, honour_retry_after=True),
    ErrorCategory.API:        RetryPolicy(max_attempts=4, base_wait_s=1.0, max_wait_s=60.0,
                                          jitter_s=1.0, honour_retry_after=True),
    ErrorCategory.DATABASE:   RetryPolicy(max_attempts=3, base_wait_s=0.2, max_wait_s=5.0,
                                          jitter_s=0.2),
    ErrorCategory.DATA:       RetryPolicy(max_attempts=2, base_wait_s=0.5, max_wait_s=2.0),
    ErrorCategory.AI:         RetryPolicy(max_attempts=2, base_wait_s=1.0, max_wait_s=10.0,
                                          jitter_s=0.5),
    ErrorCategory.SYSTEM:     RetryPolicy(max_attempts=2, base_wait_s=1.0, max_wait_s=5.0),
    # An order is never resent blindly: the caller reconciles with the broker instead.
    ErrorCategory.TRADING:    RetryPolicy(max_attempts=1),
    # The same bad input fails the same way every time.
    ErrorCategory.VALIDATION: RetryPolicy(max_attempts=1),
})
# fmt: on


def is_retryable(exc: BaseException) -> bool:
    """True for exceptions that `classify` calls retryable (never for cancellation)."""
    return isinstance(exc, Exception) and classify(exc).retryable


class _PolicyWait(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._backoff = wait_exponential_jitter(
            multiplier=policy.base_wait_s or 1.0,
            max=policy.max_wait_s,
            jitter=policy.jitter_s,
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        if self._policy.max_wait_s <= 0:
            return 0.0
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if self._policy.honour_retry_after and exc is not None:
            hint = getattr(classify(exc), "retry_after", None)
            if isinstance(hint, int | float) and hint >= 0:
                return min(float(hint), self._policy.max_wait_s)
        return self._backoff(retry_state)


@dataclass(frozen=True, slots=True)
class _Hooks:
    category: ErrorCategory
    component: str
    max_attempts: int
    registry: ErrorRegistry | None

    def before_sleep(self, retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        if exc is not None and self.registry is not None:
            self.registry.record(exc, component=self.component)
        get_logger(self.component).warning(
            "retrying",
            category=self.category.value,
            attempt=retry_state.attempt_number,
            max_attempts=self.max_attempts,
            wait_s=round(wait, 3),
            error=repr(exc),
        )

    def give_up(self, retry_state: tenacity.RetryCallState) -> object:
        outcome = retry_state.outcome
        assert outcome is not None  # tenacity calls this only after a failed attempt
        exc = outcome.exception()
        if exc is not None and self.registry is not None:
            self.registry.record(exc, component=self.component)
        get_logger(self.component).error(
            "retry_gave_up",
            category=self.category.value,
            attempts=retry_state.attempt_number,
            error=repr(exc),
        )
        return outcome.result()  # re-raises the last error, as tenacity's reraise=True does


def _settings(
    category: ErrorCategory,
    *,
    max_attempts: int | None,
    component: str,
    registry: ErrorRegistry | None,
) -> tuple[tenacity.stop.stop_base, _PolicyWait, _Hooks]:
    policy = RETRY_POLICIES[category]
    attempts = policy.max_attempts if max_attempts is None else max_attempts
    if attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    hooks = _Hooks(category, component, attempts, registry)
    return tenacity.stop_after_attempt(attempts), _PolicyWait(policy), hooks


def retry_policy(
    category: ErrorCategory,
    *,
    max_attempts: int | None = None,
    component: str = "system",
    sleep: Callable[[float], None] | None = None,
    registry: ErrorRegistry | None = None,
) -> tenacity.Retrying:
    """A tenacity `Retrying` for ``category`` from `RETRY_POLICIES`.

    Only retryable errors are retried; fatal ones raise at once. After the last attempt the
    last error itself is raised (not tenacity's `RetryError`). Each retry is logged to
    ``component``, and recorded in ``registry`` when one is given. Inject ``sleep`` in tests.
    """
    stop, wait, hooks = _settings(
        category, max_attempts=max_attempts, component=component, registry=registry
    )
    return tenacity.Retrying(
        sleep=tenacity.nap.sleep if sleep is None else sleep,
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(is_retryable),
        before_sleep=hooks.before_sleep,
        retry_error_callback=hooks.give_up,
    )


def async_retry_policy(
    category: ErrorCategory,
    *,
    max_attempts: int | None = None,
    component: str = "system",
    sleep: Callable[[float], Awaitable[None]] | None = None,
    registry: ErrorRegistry | None = None,
) -> tenacity.AsyncRetrying:
    """The asyncio twin of `retry_policy`; ``sleep`` is awaited between attempts."""
    stop, wait, hooks = _settings(
        category, max_attempts=max_attempts, component=component, registry=registry
    )
    if sleep is None:
        return tenacity.AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(is_retryable),
            before_sleep=hooks.before_sleep,
            retry_error_callback=hooks.give_up,
        )
    return tenacity.AsyncRetrying(
        sleep=sleep,
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(is_retryable),
        before_sleep=hooks.before_sleep,
        retry_error_callback=hooks.give_up,
    )


def retrying(
    *,
    category: ErrorCategory,
    max_attempts: int | None = None,
    component: str = "system",
    sleep: Callable[[float], None] | None = None,
    async_sleep: Callable[[float], Awaitable[None]] | None = None,
    registry: ErrorRegistry | None = None,
) -> Callable[[F], F]:
    """Decorate a sync or async function to retry under ``category``'s policy."""

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: object, **kwargs: object) -> object:
                policy = async_retry_policy(
                    category,
                    max_attempts=max_attempts,
                    component=component,
                    sleep=async_sleep,
                    registry=registry,
                )
                return await policy(fn, *args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: object, **kwargs: object) -> object:
            policy = retry_policy(
                category,
                max_attempts=max_attempts,
                component=component,
                sleep=sleep,
                registry=registry,
            )
            return policy(fn, *args, **kwargs)

        return cast(F, wrapper)

    return decorate
