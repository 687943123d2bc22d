"""Live logging statistics, readable in-process (the health API shows them)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stockyard.obs._render import Entry

__all__ = ["LogStats"]

_WINDOW_S = 60


@dataclass(slots=True)
class _LastError:
    time: float
    level: str
    component: str
    event: str


class LogStats:
    """Counts by level and component, entries/s over the last minute, the last error.

    Updated by the log writer thread only; read from any thread through ``snapshot``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_level: Counter[str] = Counter()
        self.by_component: Counter[str] = Counter()
        self._per_second: dict[int, int] = {}
        self._last_error: _LastError | None = None
        self.started = time.time()

    def record_batch(self, entries: Sequence[Entry]) -> None:
        """Count written entries."""
        levels = Counter(entry[1] for entry in entries)
        components = Counter(entry[2] for entry in entries)
        seconds = Counter(int(entry[0]) for entry in entries)
        last = None
        if levels.get("error") or levels.get("critical"):
            for ts, level, component, event, _fields in reversed(entries):
                if level in ("error", "critical"):
                    last = _LastError(ts, level, component, event)
                    break
        with self._lock:
            self.total += len(entries)
            self.by_level.update(levels)
            self.by_component.update(components)
            per_second = self._per_second
            for second, count in seconds.items():
                per_second[second] = per_second.get(second, 0) + count
            if last is not None:
                self._last_error = last
            if len(per_second) > _WINDOW_S * 2:
                horizon = int(time.time()) - _WINDOW_S
                for second in [s for s in per_second if s < horizon]:
                    del per_second[second]

    def snapshot(self, *, queue_depth: int = 0, console_dropped: int = 0) -> dict[str, Any]:
        """A JSON-serialisable view: totals, rates and the last error."""
        now = time.time()
        with self._lock:
            horizon = int(now) - _WINDOW_S
            recent = sum(n for s, n in self._per_second.items() if s >= horizon)
            window = min(float(_WINDOW_S), max(now - self.started, 1.0))
            last = self._last_error
            return {
                "total": self.total,
                "by_level": dict(self.by_level),
                "by_component": dict(self.by_component),
                "rate_per_s": round(recent / window, 3),
                "errors": self.by_level.get("error", 0) + self.by_level.get("critical", 0),
                "last_error": None
                if last is None
                else {
                    "time": last.time,
                    "level": last.level,
                    "component": last.component,
                    "event": last.event,
                },
                "queue_depth": queue_depth,
                "console_dropped": console_dropped,
            }
