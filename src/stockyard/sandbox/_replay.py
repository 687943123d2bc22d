"""The replay clock and timeline: a ``HistoricalSource`` turned into timed market events.

The clock runs at ``speed`` times real time from a start instant (``inf``: as fast as the
events allow; ``0``: paused, moved only by ``set``). The timeline loads a day of minute bars
at a time, synthesises quotes and trades inside each bar, and releases every event when the
clock passes it: ticks at their own time, the bar itself when it closes (open + 1 minute).
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stockyard.core import Bar, Quote, Timeframe, Trade, table_to_bars, to_ns
from stockyard.data import HistoricalSource
from stockyard.sandbox._synth import SynthesisConfig, synthesise

__all__ = ["MarketEvent", "ReplayClock", "Timeline", "parse_speed"]

_DAY = timedelta(days=1)


def parse_speed(text: str | float) -> float:
    """``"60"`` → 60.0, ``"max"`` → ``inf``, ``"0"``/``"paused"`` → 0.0."""
    if isinstance(text, int | float):
        value = float(text)
    elif text.strip().lower() == "max":
        return math.inf
    elif text.strip().lower() in ("paused", "pause", "manual"):
        return 0.0
    else:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"speed must be a number >= 0 or 'max', got {text!r}") from None
    if not (value >= 0 and not math.isnan(value)):
        raise ValueError(f"speed must be a number >= 0 or 'max', got {text!r}")
    return value


class ReplayClock:
    """Simulated time: ``start`` plus ``speed`` × the wall time elapsed since the anchor."""

    def __init__(
        self, start: datetime, *, speed: float, wall: Callable[[], float] = time.monotonic
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("the replay clock's start must be timezone-aware")
        self._wall = wall
        self._lock = threading.Lock()
        self._anchor = start.astimezone(UTC)
        self._wall_anchor = wall()
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def scaled(self) -> bool:
        """Whether time moves by itself (a finite speed above zero)."""
        return 0 < self._speed < math.inf

    def now(self) -> datetime:
        with self._lock:
            if 0 < self._speed < math.inf:
                elapsed = (self._wall() - self._wall_anchor) * self._speed
                return self._anchor + timedelta(seconds=elapsed)
            return self._anchor

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (never backwards: orders and fills would go back in time)."""
        current = self.now()
        with self._lock:
            self._anchor = max(at.astimezone(UTC), current)
            self._wall_anchor = self._wall()

    def set_speed(self, speed: float) -> None:
        current = self.now()
        with self._lock:
            self._anchor, self._wall_anchor, self._speed = current, self._wall(), speed


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One event of the tape: due at ``due_ns``; ``trade_id`` for trades."""

    due_ns: int
    value: Bar | Quote | Trade
    trade_id: int = 0


class Timeline:
    """Timed events from a source, loaded a day at a time, released in time order."""

    def __init__(
        self,
        source: HistoricalSource,
        symbols: Sequence[str],
        start: datetime,
        *,
        synthesis: SynthesisConfig,
        max_empty_days: int = 14,
    ) -> None:
        self._source = source
        self._symbols = list(symbols)
        self._cursor = start.astimezone(UTC)
        self._synthesis = synthesis
        self._max_empty_days = max_empty_days
        self._heap: list[tuple[int, int, MarketEvent]] = []
        self._seq = 0
        self._ended = False

    @property
    def ended(self) -> bool:
        """True once the source has had nothing for ``max_empty_days`` days running."""
        return self._ended and not self._heap

    def skip_to(self, at: datetime) -> None:
        """Drop events before ``at`` and load from there (the clock jumped)."""
        ns = to_ns(at)
        while self._heap and self._heap[0][0] < ns:
            heapq.heappop(self._heap)
        if at > self._cursor:
            self._cursor = at.astimezone(UTC)

    def peek_ns(self) -> int | None:
        """When the next event is due, or ``None`` when the replay has ended."""
        self._fill()
        return self._heap[0][0] if self._heap else None

    def pop_until(self, ns: int, *, limit: int = 100_000) -> list[MarketEvent]:
        """Every event due at or before ``ns`` (at most ``limit``), in time order."""
        out: list[MarketEvent] = []
        while len(out) < limit:
            self._fill()
            if not self._heap or self._heap[0][0] > ns:
                break
            out.append(heapq.heappop(self._heap)[2])
        return out

    def _push(self, event: MarketEvent) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (event.due_ns, self._seq, event))

    def _fill(self) -> None:
        empty = 0
        while not self._heap and not self._ended:
            lo, hi = self._cursor, self._next_boundary(self._cursor)
            self._cursor = hi
            tables = self._source.get_bars(self._symbols, Timeframe.MINUTE, lo, hi)
            if not tables:
                empty += 1
                self._ended = empty >= self._max_empty_days
                continue
            for symbol, table in tables.items():
                for bar in table_to_bars(table, symbol=symbol, timeframe=Timeframe.MINUTE):
                    self._add_bar(bar)

    @staticmethod
    def _next_boundary(at: datetime) -> datetime:
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + _DAY

    def _add_bar(self, bar: Bar) -> None:
        open_ns = to_ns(bar.timestamp)
        for tick in synthesise(bar, config=self._synthesis, stamp_ns=open_ns):
            self._push(MarketEvent(to_ns(tick.value.timestamp), tick.value, tick.trade_id))
        self._push(MarketEvent(open_ns + int(bar.timeframe.seconds) * 1_000_000_000, bar))
