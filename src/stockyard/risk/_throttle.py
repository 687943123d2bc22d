"""A rolling-window order counter on the injected clock."""

from __future__ import annotations

from collections import deque

__all__ = ["Throttle"]


class Throttle:
    """At most ``limit`` events in any ``window_s`` seconds; times are seconds (any epoch)."""

    __slots__ = ("_times", "limit", "window_s")

    def __init__(self, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError(f"a throttle needs limit >= 1 and window > 0, got {limit}/{window_s}s")
        self.limit = limit
        self.window_s = window_s
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        times = self._times
        while times and times[0] <= now - self.window_s:
            times.popleft()

    def allows(self, now: float) -> bool:
        """Would one more event at ``now`` stay within the limit?"""
        self._expire(now)
        return len(self._times) < self.limit

    def record(self, now: float) -> None:
        """Count one event at ``now``."""
        self._expire(now)
        self._times.append(now)

    def in_window(self, now: float) -> int:
        """Events counted in the window ending at ``now``."""
        self._expire(now)
        return len(self._times)
