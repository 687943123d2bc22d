"""Live events for the faces: the bus's market data and executions, job progress, alerts
and process state, numbered and kept in a ring so a client resumes after a reconnect.

Each event has a rising ``id`` (``Last-Event-ID`` of SSE), a ``topic`` (one of
:data:`TOPICS`), a ``subject`` (symbol, job id, ...), its time and its data as JSON values.
Publishers may call :meth:`EventHub.publish` from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, ConfigDict

from stockyard.bus import MessageBus, Subscription
from stockyard.core import Bar, Fill, Order, Position, Quote, Trade
from stockyard.health import AlertEvent, HealthReport

__all__ = [
    "TOPICS",
    "AlertEvents",
    "Event",
    "EventHub",
    "HealthEvents",
    "TopicRate",
    "jsonable",
]

TOPICS = (
    "bars",
    "quotes",
    "trades",
    "orders",
    "fills",
    "positions",
    "pnl",
    "health",
    "alerts",
    "processes",
    "jobs",
)
_BUS_PATTERNS = ("md.>", "exec.>")
_MARKET: dict[type, str] = {Bar: "bars", Quote: "quotes", Trade: "trades"}


class Event(BaseModel):
    """One live event."""

    model_config = ConfigDict(frozen=True)

    id: int
    topic: str
    subject: str | None
    time: datetime
    data: dict[str, object]


def jsonable(value: object) -> object:  # noqa: PLR0911 - one return a kind of value
    """``value`` as JSON values: dataclasses and models as objects, Decimal as text,
    times in ISO 8601, enums as their value."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _topic_of(bus_topic: str, message: object) -> tuple[str, str | None] | None:
    market = _MARKET.get(type(message))
    if market is not None:
        return market, str(getattr(message, "symbol", "")) or None
    if isinstance(message, Fill):
        return "fills", message.symbol
    if isinstance(message, Order):
        return "orders", message.symbol
    if isinstance(message, Position):
        return "positions", message.symbol
    head = bus_topic.split(".", 2)
    if len(head) >= 2 and head[0] == "exec" and head[1] in TOPICS:
        return head[1], None
    return None


_RATE_KEEP = 4_096  # event times kept per topic, for its rate


@dataclasses.dataclass(frozen=True, slots=True)
class TopicRate:
    """How fast one topic's events arrive at this hub."""

    per_s: float
    total: int
    window_s: float


class EventHub:
    """The ring of recent events and the live subscribers."""

    def __init__(self, *, size: int = 10_000) -> None:
        self._ring: deque[Event] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._next = 1
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._subscriptions: list[Subscription] = []
        self._closed = False
        self.published = 0
        self._seen: dict[str, deque[float]] = {t: deque(maxlen=_RATE_KEEP) for t in TOPICS}
        self._counts: dict[str, int] = dict.fromkeys(TOPICS, 0)

    @property
    def last_id(self) -> int:
        return self._next - 1

    def attach(self, bus: MessageBus) -> None:
        """Publish the bus's market data (``md.>``) and executions (``exec.>``)."""
        for pattern in _BUS_PATTERNS:
            self._subscriptions.append(bus.subscribe(pattern, self._on_bus))

    def detach(self) -> None:
        """Stop listening to the buses attached."""
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions.clear()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """End every stream (a server stopping need not wait for its clients to leave)."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiters)
        for loop, flag in waiters:
            with contextlib.suppress(RuntimeError):  # that subscriber's loop has closed
                loop.call_soon_threadsafe(flag.set)

    def _on_bus(self, topic: str, message: object) -> None:
        found = _topic_of(topic, message)
        if found is None:
            return
        data = jsonable(message)
        self.publish(found[0], data if isinstance(data, dict) else {"value": data}, found[1])

    def publish(self, topic: str, data: dict[str, object], subject: str | None = None) -> Event:
        """Number and keep an event, wake every subscriber. Thread-safe."""
        if topic not in TOPICS:
            raise ValueError(f"unknown event topic {topic!r}")
        with self._lock:
            event = Event(
                id=self._next, topic=topic, subject=subject, time=datetime.now(UTC), data=data
            )
            self._next += 1
            self._ring.append(event)
            self.published += 1
            self._seen[topic].append(time.monotonic())
            self._counts[topic] += 1
            waiters = list(self._waiters)
        for loop, flag in waiters:
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # that subscriber's loop has closed
                self._waiters.discard((loop, flag))
        return event

    def rates(self, *, window_s: float = 60.0) -> dict[str, TopicRate]:
        """Per topic: events a second over the last ``window_s`` (or over the span of the
        newest 4,096 when more came) and the count since this hub started."""
        now = time.monotonic()
        out: dict[str, TopicRate] = {}
        with self._lock:
            for topic, seen in self._seen.items():
                recent = [t for t in seen if now - t <= window_s]
                full = len(seen) == seen.maxlen and len(recent) == len(seen)
                span = now - recent[0] if full and recent else window_s
                rate = len(recent) / span if span > 0 else 0.0
                out[topic] = TopicRate(per_s=rate, total=self._counts[topic], window_s=window_s)
        return out

    def since(self, last_id: int, topics: Iterable[str] | None = None) -> list[Event]:
        """Kept events after ``last_id`` (of ``topics``; None: all)."""
        wanted = None if topics is None else frozenset(topics)
        with self._lock:
            return [
                e for e in self._ring if e.id > last_id and (wanted is None or e.topic in wanted)
            ]

    async def stream(
        self,
        topics: Iterable[str] | None = None,
        *,
        last_id: int | None = None,
        heartbeat_s: float = 15.0,
    ) -> AsyncIterator[Event | None]:
        """Events after ``last_id`` (None: from now) as they come; ``None`` every
        ``heartbeat_s`` without one (an SSE comment keeps proxies from closing the stream)."""
        wanted = None if topics is None else frozenset(topics)
        cursor = self.last_id if last_id is None else last_id
        flag = asyncio.Event()
        waiter = (asyncio.get_running_loop(), flag)
        self._waiters.add(waiter)
        try:
            while True:
                flag.clear()
                if self._closed:
                    return
                fresh = self.since(cursor, wanted)
                if fresh:
                    cursor = fresh[-1].id
                    for event in fresh:
                        yield event
                    continue
                with self._lock:  # anything published since we looked moves the cursor
                    newest = self._next - 1
                if newest > cursor and not self.since(cursor, wanted):
                    cursor = newest
                try:
                    await asyncio.wait_for(flag.wait(), heartbeat_s)
                except TimeoutError:
                    yield None
        finally:
            self._waiters.discard(waiter)


class AlertEvents:
    """A health notifier that puts each alert raised or resolved on the event stream
    (topic ``alerts``); add it to ``HealthService.notifiers``."""

    name = "events"

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub

    async def notify(self, event: AlertEvent) -> None:
        """Publish ``event``."""
        data = {"event": event.kind, "alert": jsonable(event.alert.to_dict())}
        self.hub.publish("alerts", data, subject=event.alert.rule)


class HealthEvents:
    """Puts a health cycle on the event stream (topic ``health``) when the overall status or
    any check's status changed since the last one put there (the first cycle always):
    ``{"status", "checks": {key: status}, "changed": [keys]}``. Add it to
    ``HealthService.report_listeners``."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._last: tuple[str, dict[str, str]] | None = None

    def __call__(self, report: HealthReport) -> None:
        checks = {key: r.status.value for key, r in sorted(report.checks.items())}
        status = report.status.value
        last = self._last
        if last is not None and last == (status, checks):
            return
        before = last[1] if last is not None else {}
        changed = sorted(k for k in checks.keys() | before.keys() if checks.get(k) != before.get(k))
        self._last = (status, checks)
        self.hub.publish("health", {"status": status, "checks": checks, "changed": changed})
