"""The replay feed: bars from any `HistoricalSource` to the bus, at a speed factor."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from stockyard.bus import MessageBus
from stockyard.core import Bar, Quote, Timeframe, Trade, table_to_bars
from stockyard.data._source import HistoricalSource
from stockyard.data.feeds._base import BaseFeed

__all__ = ["ReplayFeed"]

_HALF_SPREAD = 0.0001  # derived quotes: ±1 bp around the close
_YIELD_EVERY = 1000


class ReplayFeed(BaseFeed):
    """Replays ``[start, end)`` of ``timeframe`` bars for the symbols, merged in time order
    (ties: symbol order), pacing by the injected ``clock``/``sleep``: ``speed`` 1.0 is real
    time, 60 is a minute a second, 0 is as fast as possible. With ``ticks`` each bar is
    followed by a `Trade` at its close and a `Quote` ±1 bp around it, stamped at the bar's
    end, so quote/trade consumers have something to show. Same inputs, same messages."""

    def __init__(
        self,
        *,
        bus: MessageBus,
        source: HistoricalSource,
        symbols: Iterable[str],
        start: datetime,
        end: datetime,
        timeframe: Timeframe = Timeframe.MINUTE,
        speed: float = 1.0,
        ticks: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str = "replay",
        stale_after: float | None = None,
    ) -> None:
        super().__init__(bus=bus, name=name, symbols=symbols, stale_after=stale_after, clock=clock)
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self._source = source
        self._start, self._end = start, end
        self._timeframe = timeframe
        self._speed = speed
        self._ticks = ticks
        self._clock, self._sleep = clock, sleep
        self._bars: dict[str, list[Bar]] = {}
        self._heap: list[tuple[datetime, str, int, int]] = []
        self._generation: dict[str, int] = {}
        self._cursor: datetime | None = None

    def _load(self, symbols: Iterable[str], start: datetime) -> None:
        wanted = sorted(set(symbols))
        if not wanted or start >= self._end:
            return
        tables = self._source.get_bars(wanted, self._timeframe, start, self._end)
        for symbol in wanted:
            table = tables.get(symbol)
            bars = (
                []
                if table is None
                else table_to_bars(table, symbol=symbol, timeframe=self._timeframe)
            )
            self._bars[symbol] = bars
            gen = self._generation[symbol] = self._generation.get(symbol, 0) + 1
            if bars:
                heapq.heappush(self._heap, (bars[0].timestamp, symbol, gen, 0))

    def _subscribe(self, symbols: set[str]) -> None:
        # Joins at the replay's current position; earlier bars of the new symbol are skipped.
        after = self._start if self._cursor is None else self._cursor + timedelta(microseconds=1)
        self._load(symbols, after)

    def _unsubscribe(self, symbols: set[str]) -> None:
        for symbol in symbols:
            self._bars.pop(symbol, None)  # its heap entry is skipped when it comes up

    async def _run(self) -> None:
        self._load(self._symbols, self._start)
        wall0, first = self._clock(), self._heap[0][0] if self._heap else None
        sent = 0
        while self._heap:
            stamp, symbol, gen, index = heapq.heappop(self._heap)
            bars = self._bars.get(symbol)
            if bars is None or gen != self._generation[symbol] or symbol not in self._symbols:
                continue  # removed (or removed and added again: a newer entry exists)
            if index + 1 < len(bars):
                heapq.heappush(self._heap, (bars[index + 1].timestamp, symbol, gen, index + 1))
            if self._speed > 0 and first is not None:
                due = wall0 + (stamp - first).total_seconds() / self._speed
                delay = due - self._clock()
                if delay > 0:
                    await self._sleep(delay)
            elif sent % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # as fast as possible, but let consumers run
            self._cursor = stamp
            bar = bars[index]
            self.emit(bar)
            if self._ticks:
                self._emit_ticks(bar)
            sent += 1

    def _emit_ticks(self, bar: Bar) -> None:
        at = bar.timestamp + bar.timeframe.delta
        self.emit(Trade(bar.symbol, at, bar.close, max(bar.volume, 1.0)))
        spread = bar.close * _HALF_SPREAD
        self.emit(Quote(bar.symbol, at, bar.close - spread, 100.0, bar.close + spread, 100.0))
