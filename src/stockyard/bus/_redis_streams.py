"""Reading one Streams family through a consumer group: own pending entries first (replay
after a restart), then entries claimed from dead consumers, then new ones; acknowledged
after local dispatch."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Literal, cast

import msgpack  # type: ignore[import-untyped]  # ships no type hints
import redis.exceptions

from stockyard.bus._codec import CodecError, from_wire
from stockyard.obs import get_logger

if TYPE_CHECKING:  # the bus owns its readers; the import is for annotations only
    from stockyard.bus._redis import RedisBus

__all__ = ["StreamReader"]

_COUNT = 1000
_BLOCK_MS = 500
_CONNECTION_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
Entry = tuple[bytes, dict[bytes, bytes] | None]


class StreamReader:
    """Consumes ``{prefix}stream:{family}`` as ``bus.group``/``bus.consumer``."""

    def __init__(
        self,
        bus: RedisBus,
        family: str,
        *,
        start: Literal["new", "all"] = "new",
        claim_idle_ms: int = 30_000,
    ) -> None:
        self._bus = bus
        self.family = family
        self.key = f"{bus.prefix}stream:{family}"
        self._start_id = "$" if start == "new" else "0"
        self._claim_idle_ms = claim_idle_ms
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.last_acked: str | None = None
        self.delivered = 0
        self.replayed = 0

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(
                self._run(), name=f"bus-stream:{self.family}"
            )

    async def _ensure_group(self) -> None:
        try:
            await self._bus.redis.xgroup_create(
                self.key, self._bus.group, id=self._start_id, mkstream=True
            )
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _run(self) -> None:
        bus, r = self._bus, self._bus.redis
        grouped, backlog, next_claim = False, True, 0.0
        while not bus._closed:
            try:
                if not grouped:
                    await self._ensure_group()
                    grouped, backlog = True, True
                if backlog:  # our own delivered-but-unacknowledged entries, oldest first
                    entries = await self._read("0", block=None)
                    if entries:
                        await self._handle(entries, replayed=True)
                        continue
                    backlog = False
                    self.ready.set()
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self._claim_idle_ms / 2000
                    claimed = await r.xautoclaim(
                        self.key,
                        bus.group,
                        bus.consumer,
                        min_idle_time=self._claim_idle_ms,
                        start_id="0-0",
                        count=_COUNT,
                    )
                    if claimed[1]:
                        await self._handle(claimed[1], replayed=True)
                entries = await self._read(">", block=_BLOCK_MS)
                if entries:
                    await self._handle(entries, replayed=False)
            except redis.exceptions.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                grouped = False  # the stream or group vanished (a Redis without persistence)
            except _CONNECTION_ERRORS as exc:
                grouped = False
                await bus._lost(exc)

    async def _read(self, from_id: str, *, block: int | None) -> list[Entry]:
        bus = self._bus
        response = await bus.redis.xreadgroup(
            bus.group, bus.consumer, {self.key: from_id}, count=_COUNT, block=block
        )
        if not response:
            return []
        # RESP2 reply: [[key, [(id, fields), ...]]]
        streams = cast(list[tuple[bytes, list[Entry]]], response)
        return list(streams[0][1])

    async def _handle(self, entries: list[Entry], *, replayed: bool) -> None:
        bus = self._bus
        for _entry_id, fields in entries:
            if not fields:
                continue  # trimmed away while pending: nothing to deliver, just acknowledge
            if fields.get(b"o") == bus.origin and not replayed:
                continue  # our own publish, already delivered locally
            try:
                topic = fields[b"t"].decode()
                message = from_wire(msgpack.unpackb(fields[b"m"]))
            except (KeyError, ValueError, CodecError) as exc:
                bus._bad_frame(self.key, exc)
                continue
            bus.local.publish(topic, message)
            self.delivered += 1
            self.replayed += replayed
        ids = [entry_id for entry_id, _ in entries]
        await bus.redis.xack(self.key, bus.group, *ids)
        bus.counters["stream_acked"] += len(ids)
        bus.counters["stream_replayed"] += len(ids) if replayed else 0
        last = ids[-1]
        self.last_acked = last.decode() if isinstance(last, bytes) else str(last)
        if replayed:
            get_logger("bus").info("stream_replayed", stream=self.key, entries=len(ids))

    def describe(self) -> dict[str, object]:
        return {
            "key": self.key,
            "delivered": self.delivered,
            "replayed": self.replayed,
            "last_acked": self.last_acked,
            "running": self.task is not None and not self.task.done(),
        }
