"""NYSE sessions from ``exchange_calendars`` as plain arrays (epoch nanoseconds)."""

from __future__ import annotations

import importlib.metadata
import os
import tempfile
import threading
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

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
    """Every XNYS session from 2000 to the calendar's end (about a year ahead); cached in the
    process, and on disk for the day (see ``_cache_file``)."""
    global _cached  # noqa: PLW0603 -- one process-wide table, built once (it takes ~0.5 s)
    with _lock:
        if _cached is None:
            path = _cache_file()
            _cached = _read(path)
            if _cached is None:
                _cached = _build()
                _write(path, _cached)
        return _cached


def _cache_file() -> Path:
    """Where today's table is kept: building it needs exchange_calendars and pandas (about
    0.5 s of a process's start), reading it a few milliseconds. The name carries the
    exchange_calendars version and the day, since the calendar's end moves with today."""
    try:
        version = importlib.metadata.version("exchange_calendars")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "stockyard" / f"xnys-sessions-{version}-{date.today():%Y%m%d}.npz"


def _read(path: Path) -> Sessions | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            fields = [stored[name] for name in ("day", "open", "close", "offset")]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # not there yet, or unreadable: built again
    return Sessions(*fields)


def _write(path: Path, sessions: Sessions) -> None:
    """Keep ``sessions`` in ``path`` (atomically); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("xnys-sessions-*.npz"):
            if old != path:
                old.unlink(missing_ok=True)  # an older day's or version's
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as out:
            np.savez(
                out,
                day=sessions.day,
                open=sessions.open,
                close=sessions.close,
                offset=sessions.offset,
            )
        os.replace(out.name, path)
    except OSError:
        return


def _build() -> Sessions:
    # Imported here: exchange_calendars (with pandas) costs ~0.3 s at import, which a
    # process reading the table from the cache (or never asking for it) would pay at start.
    import exchange_calendars as xcals  # type: ignore[import-untyped]  # noqa: PLC0415

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
    return Sessions(days, opens, closes, offsets)


def _ns(values: np.ndarray) -> np.ndarray:
    return values.astype("datetime64[ns]").astype(np.int64)
