"""Staleness: no message for ``timeout_s`` → the reconnect callback, once per silence."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

from stockyard.obs import get_logger

__all__ = ["StalenessMonitor"]


class StalenessMonitor:
    """`touch` on every message; `check` (polled by `run`, or called by a test with an
    injected clock) fires ``on_stale`` once when the silence exceeds ``timeout_s``."""

    def __init__(
        self,
        *,
        timeout_s: float,
        on_stale: Callable[[], object | Awaitable[object]],
        clock: Callable[[], float] = time.monotonic,
        feed: str = "feed",
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._on_stale = on_stale
        self._clock = clock
        self._feed = feed
        self._last = clock()
        self._stale = False
        self.stale_count = 0

    def touch(self) -> None:
        """A message arrived."""
        self._last = self._clock()
        self._stale = False

    async def check(self) -> bool:
        """Fire the callback if the feed just went stale; True when it fired."""
        silence = self._clock() - self._last
        if self._stale or silence <= self.timeout_s:
            return False
        self._stale = True
        self.stale_count += 1
        get_logger("data_pipeline").warning(
            "feed_stale", feed=self._feed, silent_s=round(silence, 3), count=self.stale_count
        )
        try:
            result = self._on_stale()
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # a failing reconnect is retried at the next silence
            get_logger("data_pipeline").error(
                "feed_reconnect_failed", feed=self._feed, error=repr(exc)
            )
        self._last = self._clock()  # a fresh silence must elapse before it fires again
        self._stale = False
        return True

    async def run(self, poll_s: float | None = None) -> None:
        """Poll forever (cancel to stop)."""
        poll = poll_s if poll_s is not None else max(self.timeout_s / 4, 0.01)
        while True:
            await asyncio.sleep(poll)
            await self.check()
