"""The in-process bus: synchronous dispatch to a cached subscriber list per topic.

We write this dispatcher ourselves rather than use a library because it is the hot path of
every market-data message: a dict lookup, then a loop over a tuple of callables. The
matching subscribers of a topic are computed once and cached until a subscription changes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter_ns
from typing import TypeVar, cast

from prometheus_client import CollectorRegistry

from stockyard.bus._metrics import FamilyCounts, MetricSource, attach_source
from stockyard.bus._protocol import (
    NoResponderError,
    RequestFailedError,
    RequestTimeoutError,
    Subscription,
)
from stockyard.bus._queue import AsyncQueue, BurstLog
from stockyard.bus._topics import TopicPattern, check_topic, family_of
from stockyard.obs import get_logger

__all__ = ["InProcessBus"]

M = TypeVar("M")
P = TypeVar("P")
Call = Callable[[str, object], object]
_MAX_ROUTES = 100_000


@dataclass(eq=False, slots=True)
class _Sub:
    pattern: TopicPattern
    call: Call
    order: int
    handle: Subscription | None = None
    queue: AsyncQueue | None = None
    errors: int = 0
    log: BurstLog | None = None


@dataclass(eq=False, slots=True)
class _Route:
    calls: tuple[Call, ...]
    subs: tuple[_Sub, ...]
    queues: tuple[AsyncQueue, ...]
    counts: FamilyCounts


class InProcessBus:
    """A `MessageBus` inside one process. Publish from one thread (the event loop's, usually);
    async consumers may be fed from another thread safely.

    ``sample_every`` (a power of two) times one message in N to each subscriber, so the
    latency figures cost the hot path one integer test per message.
    """

    def __init__(
        self,
        *,
        name: str = "inproc",
        kind: str = "inproc",
        queue_size: int = 10_000,
        sample_every: int = 16,
        registry: CollectorRegistry | None = None,
    ) -> None:
        if sample_every < 1 or sample_every & (sample_every - 1):
            raise ValueError(f"sample_every must be a power of two, got {sample_every}")
        self._mask = sample_every - 1
        self._queue_size = queue_size
        self._seq = 0
        self._order = 0
        self._subs: list[_Sub] = []
        self._routes: dict[str, _Route] = {}
        self._responders: dict[str, Callable[[object], object]] = {}
        self._started = time.monotonic()
        self.metrics = MetricSource(kind=kind, name=name, gauges=self._gauges)
        attach_source(self.metrics, registry)

    # -- publishing -------------------------------------------------------------------------

    def publish(self, topic: str, message: object) -> None:
        """Deliver ``message`` to every matching subscriber, inline; never raises for a
        failing handler (it is isolated, logged once per burst and counted)."""
        route = self._routes.get(topic) or self._route(topic)
        route.counts.published += 1
        self._seq += 1
        if self._seq & self._mask:
            for call in route.calls:
                try:
                    call(topic, message)
                except Exception as exc:  # isolate: the other subscribers still receive
                    self._failed(route, call, topic, exc)
        else:
            self._publish_timed(route, topic, message)
        route.counts.delivered += len(route.calls)

    def _publish_timed(self, route: _Route, topic: str, message: object) -> None:
        t0 = perf_counter_ns()
        add = self.metrics.latency.add
        for call in route.calls:
            add(perf_counter_ns() - t0)
            try:
                call(topic, message)
            except Exception as exc:  # isolate: the other subscribers still receive
                self._failed(route, call, topic, exc)

    async def publish_async(self, topic: str, message: object) -> None:
        """`publish`, after waiting for room in any full never-drop queue on ``topic``."""
        route = self._routes.get(topic) or self._route(topic)
        for queue in route.queues:
            await queue.wait_for_room()
        self.publish(topic, message)

    def _route(self, topic: str) -> _Route:
        check_topic(topic)
        subs = tuple(s for s in self._subs if s.pattern.matches(topic))
        if len(self._routes) >= _MAX_ROUTES:
            self._routes.clear()  # a runaway topic space must not grow memory forever
        route = _Route(
            calls=tuple(s.call for s in subs),
            subs=subs,
            queues=tuple(s.queue for s in subs if s.queue is not None),
            counts=self.metrics.family(family_of(topic)),
        )
        self._routes[topic] = route
        return route

    def _failed(self, route: _Route, call: Call, topic: str, exc: BaseException) -> None:
        sub = route.subs[route.calls.index(call)]
        self._handler_error(sub, topic, exc)

    def _handler_error(self, sub: _Sub, topic: str, exc: BaseException) -> None:
        sub.errors += 1
        self.metrics.family(family_of(topic)).handler_errors += 1
        if sub.log is None:
            sub.log = BurstLog()
        if sub.log.due():
            get_logger("bus").error(
                "handler_failed",
                pattern=sub.pattern.text,
                topic=topic,
                error=repr(exc),
                errors=sub.errors,
                held_back=sub.log.held,
            )
            sub.log.held = 0

    # -- subscribing ------------------------------------------------------------------------

    def subscribe(self, pattern: str, handler: Callable[[str, M], object]) -> Subscription:
        """Call ``handler(topic, message)`` inline for each matching message."""
        if inspect.iscoroutinefunction(handler):
            raise TypeError("an async handler needs subscribe_async(), not subscribe()")
        return self._add(_Sub(TopicPattern(pattern), cast(Call, handler), self._next()))

    def subscribe_async(
        self,
        pattern: str,
        handler: Callable[[str, M], Awaitable[object]],
        *,
        maxsize: int | None = None,
    ) -> Subscription:
        """Feed ``handler`` from a bounded queue on the running loop (``md.*`` drops oldest
        when full; other families never drop). Call from inside the event loop."""
        compiled = TopicPattern(pattern)
        sub = _Sub(compiled, _noop, self._next())
        queue = AsyncQueue(
            pattern=pattern,
            handler=cast(Callable[[str, object], Awaitable[object]], handler),
            maxsize=maxsize or self._queue_size,
            source=self.metrics,
            on_error=lambda topic, exc: self._handler_error(sub, topic, exc),
        )
        sub.queue, sub.call = queue, queue.put
        return self._add(sub)

    def _next(self) -> int:
        self._order += 1
        return self._order

    def _add(self, sub: _Sub) -> Subscription:
        self._subs.append(sub)
        self._routes.clear()
        sub.handle = Subscription(sub.pattern.text, lambda: self._remove(sub))
        return sub.handle

    def _remove(self, sub: _Sub) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            self._routes.clear()
        if sub.queue is not None:
            sub.queue.stop()

    # -- request / response -----------------------------------------------------------------

    def respond(self, topic: str, handler: Callable[[P], object]) -> Subscription:
        """Answer requests on ``topic`` (one responder per topic)."""
        check_topic(topic)
        if topic in self._responders:
            raise ValueError(f"topic {topic!r} already has a responder")
        self._responders[topic] = cast(Callable[[object], object], handler)

        def cancel() -> None:
            self._responders.pop(topic, None)

        return Subscription(topic, cancel)

    def has_responder(self, topic: str) -> bool:
        return topic in self._responders

    async def request(self, topic: str, payload: object, *, timeout: float = 5.0) -> object:  # noqa: ASYNC109  # API contract
        """Call the responder on ``topic``; `NoResponderError`, `RequestTimeoutError` or
        `RequestFailedError` (carrying the responder's error) when it cannot answer."""
        handler = self._responders.get(topic)
        if handler is None:
            raise NoResponderError(f"no responder on {topic!r}", context={"topic": topic})
        try:
            reply = handler(payload)
            if inspect.isawaitable(reply):
                reply = await asyncio.wait_for(reply, timeout)
        except TimeoutError as exc:
            raise RequestTimeoutError(
                f"no reply on {topic!r} within {timeout}s", context={"topic": topic}, cause=exc
            ) from exc
        except Exception as exc:
            raise RequestFailedError(f"responder on {topic!r} failed: {exc!r}", cause=exc) from exc
        return reply

    # -- state ------------------------------------------------------------------------------

    def _gauges(self) -> dict[str, float]:
        out: dict[str, float] = {"subscriptions": float(len(self._subs))}
        for sub in self._subs:
            if sub.queue is not None:
                out[f"queue_depth:{sub.pattern.text}"] = float(sub.queue.depth)
        return out

    def stats(self) -> dict[str, object]:
        """Counters per topic family, rates since start, latency p50/p99, queue depths."""
        uptime = max(time.monotonic() - self._started, 1e-9)
        families = {
            name: {
                "published": c.published,
                "delivered": c.delivered,
                "dropped": c.dropped,
                "handler_errors": c.handler_errors,
                "published_per_s": round(c.published / uptime, 1),
            }
            for name, c in sorted(self.metrics.families.items())
        }
        latency: dict[str, object] = dict(self.metrics.latency.percentiles_us())
        latency["samples"] = self.metrics.latency.count
        latency["sample_every"] = self._mask + 1
        return {
            "backend": "inproc",
            "name": self.metrics.name,
            "uptime_s": round(uptime, 3),
            "subscriptions": len(self._subs),
            "responders": sorted(self._responders),
            "topics_cached": len(self._routes),
            "families": families,
            "latency": latency,
            "queues": [s.queue.describe() for s in self._subs if s.queue is not None],
        }

    async def close(self) -> None:
        """Cancel every subscription (async consumers included)."""
        subs = list(self._subs)
        for sub in subs:
            if sub.handle is not None:
                sub.handle.cancel()
        for sub in subs:
            if sub.queue is not None:
                await sub.queue.close()


def _noop(topic: str, message: object) -> None:
    return None
