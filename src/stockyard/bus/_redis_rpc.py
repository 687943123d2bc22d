"""Request/response across processes over Redis pub/sub: a request channel per topic, a
reply channel per bus, and a correlation id per request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import msgpack  # type: ignore[import-untyped]  # ships no type hints

from stockyard.bus._codec import CodecError, from_wire, to_wire
from stockyard.bus._protocol import (
    NoResponderError,
    RequestFailedError,
    RequestTimeoutError,
    Subscription,
)
from stockyard.obs import get_logger

if TYPE_CHECKING:  # the bus owns this helper; the import is for annotations only
    from stockyard.bus._redis import RedisBus

__all__ = ["RedisRpc"]

P = TypeVar("P")
_ORIGIN_LEN = 8


class RedisRpc:
    """The request/response half of a `RedisBus`."""

    def __init__(self, bus: RedisBus) -> None:
        self._bus = bus
        self.prefix = f"{bus.prefix}_rpc:"
        self.reply_channel = f"{bus.prefix}_reply:{bus.origin.hex()}"
        self._pending: dict[int, asyncio.Future[object]] = {}
        self._next = 0
        self._serving: set[asyncio.Task[None]] = set()

    def respond(self, topic: str, handler: Callable[[P], object]) -> Subscription:
        local = self._bus.local.respond(topic, handler)
        glob = self.prefix + topic
        self._bus._want(glob)

        def cancel() -> None:
            local.cancel()
            self._bus._unwant(glob)

        return Subscription(topic, cancel)

    async def request(self, topic: str, payload: object, *, timeout: float) -> object:  # noqa: ASYNC109  # API contract
        bus = self._bus
        if bus.local.has_responder(topic):
            return await bus.local.request(topic, payload, timeout=timeout)
        await bus.ready(timeout)
        self._next += 1
        corr = self._next
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[corr] = future
        frame = bus.origin + msgpack.packb(["req", corr, self.reply_channel, to_wire(payload)])
        try:
            receivers = await bus.redis.publish(self.prefix + topic, frame)
            if receivers == 0:
                raise NoResponderError(f"no responder on {topic!r}", context={"topic": topic})
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise RequestTimeoutError(
                f"no reply on {topic!r} within {timeout}s", context={"topic": topic}, cause=exc
            ) from exc
        finally:
            self._pending.pop(corr, None)

    def on_request(self, topic: str, data: bytes) -> None:
        try:
            kind, corr, reply_to, item = msgpack.unpackb(data[_ORIGIN_LEN:])
            if kind != "req":
                raise CodecError(f"expected a request frame, got {kind!r}")
            payload = from_wire(item)
        except (ValueError, TypeError, CodecError) as exc:
            self._bus._bad_frame(self.prefix + topic, exc)
            return
        task = asyncio.get_running_loop().create_task(self._serve(topic, corr, reply_to, payload))
        self._serving.add(task)
        task.add_done_callback(self._serving.discard)

    async def _serve(self, topic: str, corr: int, reply_to: str, payload: object) -> None:
        bus = self._bus
        try:
            result = await bus.local.request(topic, payload)
            frame = ["rep", corr, True, to_wire(result)]
        except Exception as exc:  # the requester gets the error, this process goes on
            frame = ["rep", corr, False, str(exc)]
        try:
            await bus.redis.publish(reply_to, bus.origin + msgpack.packb(frame))
        except Exception as exc:  # requester times out; nothing else to do here
            get_logger("bus").warning("reply_failed", topic=topic, error=repr(exc))

    def on_reply(self, data: bytes) -> None:
        try:
            _kind, corr, ok, body = msgpack.unpackb(data[_ORIGIN_LEN:])
            result = from_wire(body) if ok else None
        except (ValueError, TypeError, CodecError) as exc:
            self._bus._bad_frame(self.reply_channel, exc)
            return
        future = self._pending.get(corr)
        if future is None or future.done():
            return  # late reply after a timeout
        if ok:
            future.set_result(result)
        else:
            future.set_exception(RequestFailedError(f"responder failed: {body}"))
