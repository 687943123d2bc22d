"""NYSE sessions from ``exchange_calendars`` as plain arrays (epoch nanoseconds)."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Literal

import exchange_calendars as xcals  # type: ignore[import-untyped]  # ships no type hints
import numpy as np

__all__ = ["CalendarName", "Sessions", "nyse_sessions"]

CalendarName = Literal["XNYS"]

_DAY_NS = 86_400 * 10**9
_FIRST_YEAR = 2000
_lock = threading.Lock()
_cached: Sessions | None = None


@dataclass(frozen=True, slots=True)
class Sessions:
    """Sessions in order: ``day`` (days since the epoch of the session date), ``open`` and
    ``close`` (UTC ns), and ``offset`` (New York's UTC offset that day, ns; e.g. -5 h)."""

    day: np.ndarray
    open: np.ndarray
    close: np.ndarray
    offset: np.ndarray

    def between(self, lo: int, hi: int) -> Sessions:
        """Sessions whose trading hours overlap ``[lo, hi)``."""
        a = int(np.searchsorted(self.close, lo, side="right"))
        b = int(np.searchsorted(self.open, hi, side="left"))
        return Sessions(self.day[a:b], self.open[a:b], self.close[a:b], self.offset[a:b])

    def locate(self, ns: np.ndarray) -> np.ndarray:
        """Index of the session each time falls in (``open <= t < close``), -1 if none."""
        index = np.searchsorted(self.open, ns, side="right") - 1
        inside = (index >= 0) & (ns < self.close[index.clip(min=0)])
        located: np.ndarray = np.where(inside, index, -1)
        return located

    def midnight(self) -> np.ndarray:
        """UTC ns of 00:00 New York time on each session date (Alpaca's daily-bar stamp)."""
        stamps: np.ndarray = self.day * _DAY_NS - self.offset
        return stamps

    @property
    def first_ns(self) -> int:
        return int(self.open[0])

    @property
    def last_ns(self) -> int:
        return int(self.close[-1])


def nyse_sessions() -> Sessions:
    """Every XNYS session from 2000 to the calendar's end (about a year ahead); cached."""
    global _cached  # noqa: PLW0603 -- one process-wide table, built once (it takes ~0.5 s)
    with _lock:
        if _cached is None:
            with warnings.catch_warnings():
                # exchange_calendars 4.13 still reads Series.values, which pandas 3.1
                # deprecates; nothing we can change, and harmless to us.
                warnings.filterwarnings("ignore", message=r"Series\.values returning")
                calendar = xcals.get_calendar("XNYS", start=f"{_FIRST_YEAR}-01-01")
                schedule = calendar.schedule
            opens = _ns(schedule["open"].dt.tz_convert(None).to_numpy())
            closes = _ns(schedule["close"].dt.tz_convert(None).to_numpy())
            days = _ns(schedule.index.to_numpy()) // _DAY_NS
            local_open = schedule["open"].dt.tz_convert("America/New_York").dt.tz_localize(None)
            offsets = _ns(local_open.to_numpy()) - opens
            _cached = Sessions(days, opens, closes, offsets)
        return _cached


def _ns(values: np.ndarray) -> np.ndarray:
    return values.astype("datetime64[ns]").astype(np.int64)
