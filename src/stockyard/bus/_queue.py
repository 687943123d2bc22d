"""A bounded queue feeding one async subscriber, with its family's overflow policy."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from stockyard.bus._metrics import MetricSource
from stockyard.bus._topics import QueuePolicy, family_of, policy_for
from stockyard.obs import get_logger

__all__ = ["AsyncQueue", "BurstLog"]

_QUIET_S = 10.0


class BurstLog:
    """Log the first event of a burst, then stay quiet for ``quiet_s`` and report how many
    were held back, so a handler failing on every message cannot flood the logs."""

    __slots__ = ("_last", "_quiet", "held")

    def __init__(self, quiet_s: float = _QUIET_S) -> None:
        self._quiet = quiet_s
        self._last = -1e18
        self.held = 0

    def due(self) -> bool:
        """True when this event should be logged (then ``held`` says how many were not)."""
        now = time.monotonic()
        if now - self._last >= self._quiet:
            self._last = now
            return True
        self.held += 1
        return False


class AsyncQueue:
    """Messages waiting for one async handler; `put` is what the dispatcher calls inline.

    The hand-rolled deque (rather than ``asyncio.Queue``) lets `put` drop the oldest entry
    in O(1) and be called from the publisher without awaiting.
    """

    def __init__(
        self,
        *,
        pattern: str,
        handler: Callable[[str, object], Awaitable[object]],
        maxsize: int,
        source: MetricSource,
        on_error: Callable[[str, BaseException], None],
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.pattern = pattern
        self.maxsize = maxsize
        self.over_bound = 0
        self.dropped = 0
        self._items: deque[tuple[str, object]] = deque()
        self._handler = handler
        self._source = source
        self._on_error = on_error
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._overflow_log = BurstLog()
        self._task = self._loop.create_task(self._run(), name=f"bus-consumer:{pattern}")

    @property
    def depth(self) -> int:
        return len(self._items)

    def put(self, topic: str, message: object) -> None:
        """Enqueue (never blocks); a full queue drops its oldest or grows, by policy."""
        items = self._items
        if len(items) >= self.maxsize:
            if policy_for(topic) is QueuePolicy.DROP_OLDEST:
                items.popleft()
                self.dropped += 1
                self._source.family(family_of(topic)).dropped += 1
            else:
                self.over_bound += 1
                if self._overflow_log.due():
                    get_logger("bus").warning(
                        "queue_over_bound",
                        pattern=self.pattern,
                        depth=len(items),
                        maxsize=self.maxsize,
                        held_back=self._overflow_log.held,
                    )
        items.append((topic, message))
        if not self._wake.is_set():
            if threading.get_ident() == self._thread:
                self._wake.set()
            else:
                self._loop.call_soon_threadsafe(self._wake.set)

    async def wait_for_room(self) -> None:
        """Return once the queue is below its bound (never-drop backpressure)."""
        while len(self._items) >= self.maxsize and not self._task.done():
            self._room.clear()
            await self._room.wait()

    async def _run(self) -> None:
        items = self._items
        while True:
            if not items:
                self._wake.clear()
                await self._wake.wait()
                continue
            topic, message = items.popleft()
            if not self._room.is_set() and len(items) < self.maxsize:
                self._room.set()
            try:
                await self._handler(topic, message)
            except Exception as exc:  # one bad consumer never stops the others
                self._on_error(topic, exc)

    def stop(self) -> None:
        """Cancel the consumer task (safe from any thread); queued messages are discarded."""
        if threading.get_ident() == self._thread:
            self._task.cancel()
            self._room.set()
        else:
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._loop.call_soon_threadsafe(self._room.set)

    async def close(self) -> None:
        """Stop the consumer task and wait for it to end."""
        self.stop()
        try:
            await self._task
        except asyncio.CancelledError:
            if not self._task.cancelled():
                raise

    def describe(self) -> dict[str, object]:
        return {
            "pattern": self.pattern,
            "depth": len(self._items),
            "maxsize": self.maxsize,
            "dropped": self.dropped,
            "over_bound": self.over_bound,
        }
