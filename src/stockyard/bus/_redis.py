"""The Redis bus: pub/sub fan-out for market data, Streams for events that must not be lost.

Every `RedisBus` also is an in-process bus: `publish` delivers to local subscribers inline
first, then queues the frame for Redis, so local delivery never waits on (or stops with)
Redis. One flusher task sends queued frames in pipelines; frames for the same channel in a
flush travel as one PUBLISH carrying a MessagePack list, which is what makes 100k msg/s
possible from Python. Streams (one per family, ``exec`` and ``audit`` by default) keep order
across the topics of a family and are read through a consumer group, acknowledged after
local dispatch; see ``docs/bus.md`` for the delivery guarantees.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from fnmatch import fnmatchcase
from typing import Literal, TypeVar

import msgpack  # type: ignore[import-untyped]  # ships no type hints
import redis.asyncio as aredis
import redis.exceptions
from prometheus_client import CollectorRegistry
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from stockyard.bus._codec import CodecError, from_wire, to_wire
from stockyard.bus._inproc import InProcessBus
from stockyard.bus._protocol import Subscription
from stockyard.bus._queue import BurstLog
from stockyard.bus._redis_rpc import RedisRpc
from stockyard.bus._redis_streams import StreamReader
from stockyard.bus._topics import TopicPattern, check_topic, family_of
from stockyard.obs import get_logger
from stockyard.resilience import reconnect_with_backoff_async

__all__ = ["CONNECTION_ERRORS", "RedisBus"]

M = TypeVar("M")
P = TypeVar("P")
CONNECTION_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
_ORIGIN_LEN = 8
_PUB_BATCH = 20_000
_STREAM_BATCH = 2_000


class RedisBus:
    """A `MessageBus` across processes and hosts through Redis (redis-py asyncio).

    Build it, ``await bus.start()`` (or ``async with``), publish from the event loop's thread.
    ``group``/``consumer`` name this process in the Streams consumer groups: processes that
    must each see every execution event use different groups; give a restarted process the
    same ``consumer`` to resume its own unacknowledged entries first.
    """

    def __init__(
        self,
        *,
        url: str,
        prefix: str = "stockyard:",
        name: str = "redis",
        group: str | None = None,
        consumer: str | None = None,
        stream_families: tuple[str, ...] = ("exec", "audit"),
        stream_maxlen: int = 100_000,
        stream_start: Literal["new", "all"] = "new",
        claim_idle_ms: int = 30_000,
        queue_size: int = 10_000,
        outbound_limit: int = 100_000,
        sample_every: int = 16,
        registry: CollectorRegistry | None = None,
        reconnect_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.local = InProcessBus(
            name=name,
            kind="redis",
            queue_size=queue_size,
            sample_every=sample_every,
            registry=registry,
        )
        self.metrics = self.local.metrics
        self.metrics.gauges = self._gauges
        self.metrics.extra_counters = self._counters
        self.prefix = prefix
        self.origin = uuid.uuid4().bytes[:_ORIGIN_LEN]
        self.group = group or name
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.stream_families = stream_families
        self.stream_maxlen = stream_maxlen
        self._redis = aredis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
        self._sleep = reconnect_sleep
        self._closed = False
        self._connected = False
        self._reconnect_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        # outbound: (channel, wire item) for pub/sub; (key, fields, future) for streams
        self._pub_out: deque[tuple[str, list[object]]] = deque()
        self._stream_out: deque[tuple[str, dict[str, bytes], asyncio.Future[str] | None]] = deque()
        self._outbound_limit = outbound_limit
        self._out_wake = asyncio.Event()
        self._routes: dict[str, tuple[bool, str]] = {}
        # pub/sub subscriptions: wanted globs (refcounted), those active on the connection
        self._globs: dict[str, int] = {}
        self._active: set[str] = set()
        self._owners: dict[str, str | None] = {}
        self._pubsub: PubSub | None = None
        self._in_sync = asyncio.Event()
        self._streams: dict[str, StreamReader] = {}
        self._stream_start = stream_start
        self._claim_idle_ms = claim_idle_ms
        self.counters: dict[str, int] = {
            "sent_frames": 0,
            "sent_messages": 0,
            "received_messages": 0,
            "outbound_dropped": 0,
            "stream_added": 0,
            "stream_acked": 0,
            "stream_replayed": 0,
        }
        self._decode_log = BurstLog()
        self._started = time.monotonic()
        self.rpc = RedisRpc(self)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> RedisBus:
        """Connect (retrying with backoff) and start the flusher and reader tasks."""
        await reconnect_with_backoff_async(
            self._ping, max_attempts=3, component="bus", sleep=self._sleep
        )
        self._connected = True
        self._want(self.rpc.reply_channel)
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="bus-redis-flush"))
        self._tasks.append(asyncio.create_task(self._read_loop(), name="bus-redis-read"))
        for reader in self._streams.values():
            reader.start()
        return self

    async def __aenter__(self) -> RedisBus:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def ready(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109  # API contract
        """Wait until every subscription made so far is active on Redis."""
        await asyncio.wait_for(self._wait_in_sync(), timeout)
        for reader in self._streams.values():
            await asyncio.wait_for(reader.ready.wait(), timeout)

    async def _wait_in_sync(self) -> None:
        while set(self._globs) != self._active:
            self._in_sync.clear()
            await self._in_sync.wait()

    async def flush(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109  # API contract
        """Wait until everything published so far has been sent to Redis."""
        deadline = time.monotonic() + timeout
        while self._pub_out or self._stream_out or self._sending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._pub_out) + len(self._stream_out)} frames unsent")
            await asyncio.sleep(0.001)

    async def close(self) -> None:
        """Send what is queued (briefly, if Redis is up), stop the tasks, disconnect."""
        if self._connected:
            try:
                await self.flush(timeout=2.0)
            except TimeoutError:
                get_logger("bus").warning("close_unsent", pending=len(self._stream_out))
        self._closed = True
        for task in [*self._tasks, *(r.task for r in self._streams.values() if r.task)]:
            task.cancel()
        for task in [*self._tasks, *(r.task for r in self._streams.values() if r.task)]:
            try:
                await task
            except (asyncio.CancelledError, *CONNECTION_ERRORS):
                pass
        if self._pubsub is not None:
            await self._close_pubsub()
        await self._redis.aclose()
        await self.local.close()

    # -- publishing -------------------------------------------------------------------------

    def publish(self, topic: str, message: object) -> None:
        """Deliver locally (inline), then queue for Redis; never blocks on Redis."""
        item = to_wire(message)
        self.local.publish(topic, message)
        self._enqueue(topic, item, None)

    async def publish_async(self, topic: str, message: object) -> None:
        """`publish`; for a Streams family, return only once Redis has stored the event."""
        item = to_wire(message)
        await self.local.publish_async(topic, message)
        future: asyncio.Future[str] | None = None
        if self._route(topic)[0]:
            future = asyncio.get_running_loop().create_future()
        self._enqueue(topic, item, future)
        if future is not None:
            await future

    def _route(self, topic: str) -> tuple[bool, str]:
        route = self._routes.get(topic)
        if route is None:
            family = family_of(check_topic(topic))
            is_stream = family in self.stream_families
            where = f"{self.prefix}stream:{family}" if is_stream else self.prefix + topic
            route = self._routes[topic] = (is_stream, where)
        return route

    def _enqueue(self, topic: str, item: list[object], future: asyncio.Future[str] | None) -> None:
        is_stream, where = self._route(topic)
        if is_stream:
            fields = {"t": topic.encode(), "o": self.origin, "m": msgpack.packb(item)}
            self._stream_out.append((where, fields, future))
        else:
            self._pub_out.append((where, item))
            if len(self._pub_out) > self._outbound_limit:
                self._pub_out.popleft()
                self.counters["outbound_dropped"] += 1
                self.metrics.family(family_of(topic)).dropped += 1
        if not self._out_wake.is_set():
            self._out_wake.set()

    _sending = False

    async def _flush_loop(self) -> None:
        while not self._closed:
            await self._out_wake.wait()
            self._out_wake.clear()
            while self._pub_out or self._stream_out:
                try:
                    self._sending = True
                    await self._flush_once()
                except CONNECTION_ERRORS as exc:
                    await self._lost(exc)
                finally:
                    self._sending = False

    async def _flush_once(self) -> None:
        pub, streams = self._pub_out, self._stream_out
        items = [pub.popleft() for _ in range(min(len(pub), _PUB_BATCH))]
        entries = [streams.popleft() for _ in range(min(len(streams), _STREAM_BATCH))]
        by_channel: dict[str, list[list[object]]] = {}
        for channel, item in items:
            by_channel.setdefault(channel, []).append(item)
        pipe = self._redis.pipeline(transaction=False)
        for channel, batch in by_channel.items():
            pipe.publish(channel, self.origin + msgpack.packb(batch))
        for key, fields, _ in entries:
            pipe.xadd(key, fields, maxlen=self.stream_maxlen, approximate=True)  # type: ignore[arg-type]
        try:
            results = await pipe.execute()
        except BaseException:
            # Not sent (or not known to be): put them back in order; at-least-once.
            streams.extendleft(reversed(entries))
            pub.extendleft(reversed(items))
            raise
        self.counters["sent_frames"] += len(by_channel)
        self.counters["sent_messages"] += len(items)
        self.counters["stream_added"] += len(entries)
        for (_, _, future), entry_id in zip(entries, results[len(by_channel) :], strict=True):
            if future is not None and not future.done():
                future.set_result(entry_id.decode() if isinstance(entry_id, bytes) else entry_id)

    # -- subscribing ------------------------------------------------------------------------

    def subscribe(self, pattern: str, handler: Callable[[str, M], object]) -> Subscription:
        """Local and remote messages on ``pattern`` to ``handler`` (inline)."""
        return self._remote(pattern, self.local.subscribe(pattern, handler))

    def subscribe_async(
        self,
        pattern: str,
        handler: Callable[[str, M], Awaitable[object]],
        *,
        maxsize: int | None = None,
    ) -> Subscription:
        """Local and remote messages on ``pattern`` to an async ``handler`` via a queue."""
        return self._remote(pattern, self.local.subscribe_async(pattern, handler, maxsize=maxsize))

    def _remote(self, pattern: str, local: Subscription) -> Subscription:
        compiled = TopicPattern(pattern)
        head = pattern.split(".", 1)[0]
        families = [f for f in self.stream_families if head in (f, "*", ">")]
        glob = None if head in self.stream_families else compiled.redis_glob(self.prefix)
        for family in families:
            if family not in self._streams:
                reader = StreamReader(
                    self, family, start=self._stream_start, claim_idle_ms=self._claim_idle_ms
                )
                self._streams[family] = reader
                if self._tasks:
                    reader.start()
        if glob is not None:
            self._want(glob)

        def cancel() -> None:
            local.cancel()
            if glob is not None:
                self._unwant(glob)

        return Subscription(pattern, cancel)

    def respond(self, topic: str, handler: Callable[[P], object]) -> Subscription:
        """Answer requests on ``topic`` from this process and from others."""
        return self.rpc.respond(topic, handler)

    async def request(self, topic: str, payload: object, *, timeout: float = 5.0) -> object:  # noqa: ASYNC109  # API contract
        """Ask the responder on ``topic`` (here, or in any process on this Redis)."""
        return await self.rpc.request(topic, payload, timeout=timeout)

    def _want(self, glob: str) -> None:
        self._globs[glob] = self._globs.get(glob, 0) + 1

    def _unwant(self, glob: str) -> None:
        left = self._globs.get(glob, 0) - 1
        if left > 0:
            self._globs[glob] = left
        else:
            self._globs.pop(glob, None)

    async def _sync_globs(self, pubsub: PubSub) -> None:
        wanted = set(self._globs)
        new, gone = wanted - self._active, self._active - wanted
        if new:
            await pubsub.psubscribe(*new)
        if gone:
            await pubsub.punsubscribe(*gone)
        self._active = wanted
        self._owners.clear()
        self._in_sync.set()

    # -- receiving --------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while not self._closed:
            try:
                if self._pubsub is None:
                    self._pubsub = self._redis.pubsub()
                    self._active = set()
                if set(self._globs) != self._active:
                    await self._sync_globs(self._pubsub)
                if not self._active:
                    await asyncio.sleep(0.05)
                    continue
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
                if msg is not None and msg["type"] == "pmessage":
                    self._on_message(msg["pattern"].decode(), msg["channel"].decode(), msg["data"])
            except CONNECTION_ERRORS as exc:
                await self._close_pubsub()
                await self._lost(exc)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub, self._active = self._pubsub, None, set()
        if pubsub is not None:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # bare before redis-py 8

    def _owner(self, channel: str) -> str | None:
        # Redis sends one pmessage per matching glob; the first matching glob owns the channel.
        owner = self._owners.get(channel, "")
        if owner == "":
            owner = min((g for g in self._active if fnmatchcase(channel, g)), default=None)
            self._owners[channel] = owner
        return owner

    def _on_message(self, glob: str, channel: str, data: bytes) -> None:
        if self._owner(channel) != glob:
            return
        if channel.startswith(self.rpc.prefix):
            self.rpc.on_request(channel[len(self.rpc.prefix) :], data)
            return
        if channel == self.rpc.reply_channel:
            self.rpc.on_reply(data)
            return
        if data[:_ORIGIN_LEN] == self.origin:
            return  # our own publish, already delivered locally
        topic = channel[len(self.prefix) :]
        try:
            batch = msgpack.unpackb(data[_ORIGIN_LEN:])
            if not isinstance(batch, list):
                raise CodecError("a pub/sub frame must hold a list of messages")
        except (ValueError, CodecError, msgpack.ExtraData) as exc:
            self._bad_frame(channel, exc)
            return
        publish = self.local.publish
        for item in batch:
            try:
                message = from_wire(item)
            except CodecError as exc:
                self._bad_frame(channel, exc)
                continue
            publish(topic, message)
        self.counters["received_messages"] += len(batch)

    def _bad_frame(self, where: str, exc: BaseException) -> None:
        self.metrics.decode_errors += 1
        if self._decode_log.due():
            get_logger("bus").warning(
                "bad_frame_dropped", where=where, error=str(exc), held_back=self._decode_log.held
            )
            self._decode_log.held = 0

    # -- connection -------------------------------------------------------------------------

    async def _ping(self) -> None:
        await self._redis.ping()

    async def _lost(self, exc: BaseException) -> None:
        """Wait, retrying with backoff, until Redis answers again (one reconnect per outage)."""
        self._connected = False
        async with self._reconnect_lock:
            if self._connected or self._closed:
                return
            get_logger("bus").warning("redis_lost", error=repr(exc))
            while not self._closed:
                try:
                    await reconnect_with_backoff_async(
                        self._ping, component="bus", sleep=self._sleep
                    )
                    break
                except CONNECTION_ERRORS:
                    continue
                except Exception as error:  # classified as retryable network error
                    if not getattr(error, "retryable", False):
                        raise
            self._connected = True
            self.metrics.reconnects += 1
            get_logger("bus").info("redis_reconnected", reconnects=self.metrics.reconnects)

    @property
    def started(self) -> bool:
        """``start`` has run (and ``close`` has not)."""
        return bool(self._tasks) and not self._closed

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def redis(self) -> aredis.Redis:
        """The redis-py client (for health checks and admin reads)."""
        return self._redis

    def _gauges(self) -> dict[str, float]:
        return {
            "connected": 1.0 if self._connected else 0.0,
            "outbound_pubsub": float(len(self._pub_out)),
            "outbound_streams": float(len(self._stream_out)),
            **self.local._gauges(),
        }

    def _counters(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.counters.items()}

    def stats(self) -> dict[str, object]:
        """The local bus's stats plus Redis-side counters, backlog and connection state."""
        out = self.local.stats()
        out.update(
            backend="redis",
            connected=self._connected,
            reconnects=self.metrics.reconnects,
            decode_errors=self.metrics.decode_errors,
            outbound={"pubsub": len(self._pub_out), "streams": len(self._stream_out)},
            redis=dict(self.counters),
            patterns=sorted(self._active),
            streams={f: r.describe() for f, r in self._streams.items()},
            group=self.group,
            consumer=self.consumer,
        )
        return out
