"""The `MessageBus` interface, `Subscription`, and the bus errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, runtime_checkable

from stockyard.resilience import ErrorCategory, FatalError, RetryableError

__all__ = [
    "MessageBus",
    "NoResponderError",
    "RequestFailedError",
    "RequestTimeoutError",
    "Subscription",
]

M = TypeVar("M")
P = TypeVar("P")


class NoResponderError(FatalError):
    """A request went to a topic nobody responds to."""

    default_category = ErrorCategory.SYSTEM


class RequestTimeoutError(RetryableError):
    """A request got no reply within its timeout."""

    default_category = ErrorCategory.NETWORK


class RequestFailedError(FatalError):
    """The responder raised; the message carries its error."""

    default_category = ErrorCategory.SYSTEM


class Subscription:
    """A handle on one subscription (or responder); `cancel` stops delivery to it."""

    __slots__ = ("_cancel", "active", "pattern")

    def __init__(self, pattern: str, cancel: Callable[[], None]) -> None:
        self.pattern = pattern
        self.active = True
        self._cancel = cancel

    def cancel(self) -> None:
        """Stop delivery; idempotent."""
        if self.active:
            self.active = False
            self._cancel()

    def __repr__(self) -> str:
        return f"Subscription({self.pattern!r}, active={self.active})"


@runtime_checkable
class MessageBus(Protocol):
    """Topic-based publish/subscribe plus request/response, in-process or across processes.

    Handlers take ``(topic, message)``. Synchronous handlers run inline in `publish`; async
    handlers get a bounded queue whose policy depends on the topic family (`policy_for`).
    """

    def publish(self, topic: str, message: object) -> None:
        """Deliver ``message`` to every matching subscriber (never blocks)."""
        ...

    async def publish_async(self, topic: str, message: object) -> None:
        """Like `publish`, but waits for room in never-drop queues (and, on Redis, for the
        durable write of an execution event)."""
        ...

    def subscribe(self, pattern: str, handler: Callable[[str, M], object]) -> Subscription:
        """Call ``handler`` inline for each message on a topic matching ``pattern``."""
        ...

    def subscribe_async(
        self,
        pattern: str,
        handler: Callable[[str, M], Awaitable[object]],
        *,
        maxsize: int | None = None,
    ) -> Subscription:
        """Queue matching messages for an async ``handler`` run by a task on this loop."""
        ...

    def respond(self, topic: str, handler: Callable[[P], object]) -> Subscription:
        """Answer requests on ``topic``: ``handler(payload)`` returns (or awaits to) the reply."""
        ...

    async def request(self, topic: str, payload: object, *, timeout: float = 5.0) -> object:  # noqa: ASYNC109  # API contract
        """Send ``payload`` to the responder on ``topic`` and return its reply."""
        ...

    def stats(self) -> dict[str, object]:
        """JSON-serialisable counters, rates, latency percentiles and queue depths."""
        ...

    async def close(self) -> None:
        """Stop consumer tasks and release connections."""
        ...
