"""Gaps in stored bars: stretches of market time that no bar covers, measured against a
``MarketCalendar`` (NYSE sessions for stocks; always open for crypto).

Only the span from the first bar to the end of the last is judged (data that starts late
is not a gap). Intraday bars: within each session, every uncovered stretch of at least
``min_gap`` (default: two bars and at least 10 minutes); stretches that run from one
session's close into the next session's open are one gap. Daily and longer bars: the
sessions with no bar on their date, consecutive ones joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import numpy as np
import pyarrow as pa

from stockyard.core import Timeframe, TimeUnit
from stockyard.data._market_calendar import MarketCalendar
from stockyard.data._time import table_ns

__all__ = ["Gap", "GapReport", "find_gaps"]

_NS = 1_000
_INTRADAY_FLOOR = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Gap:
    """``[start, end)`` without a bar; ``market``: the session time inside it;
    ``sessions``: how many sessions it touches."""

    start: datetime
    end: datetime
    market: timedelta
    sessions: int


@dataclass(frozen=True, slots=True)
class GapReport:
    """The gaps of one series and the sessions judged."""

    sessions: int
    gaps: tuple[Gap, ...]

    @property
    def missing(self) -> timedelta:
        """The market time no bar covers, over every gap."""
        return sum((g.market for g in self.gaps), timedelta(0))


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * _NS


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def find_gaps(
    table: pa.Table,
    *,
    timeframe: Timeframe,
    calendar: MarketCalendar,
    min_gap: timedelta | None = None,
) -> GapReport:
    """The gaps of ``table``'s bars (sorted by time) against ``calendar``'s sessions."""
    if table.num_rows == 0:
        return GapReport(0, ())
    ns = table_ns(table)
    if timeframe.unit in (TimeUnit.DAY, TimeUnit.WEEK, TimeUnit.MONTH):
        return _missing_days(ns, calendar)
    length = timeframe.seconds * 10**9
    if min_gap is None:
        min_gap = max(2 * timedelta(seconds=timeframe.seconds), _INTRADAY_FLOOR)
    threshold = int(min_gap.total_seconds() * 10**9)
    first, end = int(ns[0]), int(ns[-1]) + length
    days = calendar.sessions(_at(first).date() - timedelta(days=1), _at(end).date())
    pieces: list[tuple[int, int]] = []
    judged = 0
    for _day, open_, close in days:
        o, c = max(_ns(open_), first), min(_ns(close), end)
        if c <= o:
            continue
        judged += 1
        inside = ns[np.searchsorted(ns, o - length, "right") : np.searchsorted(ns, c, "left")]
        lo = np.concatenate([[o], inside + length])
        hi = np.concatenate([inside, [c]])
        bare = hi > lo  # where one bar's end does not meet the next one's start
        for a, b in zip(lo[bare].tolist(), hi[bare].tolist(), strict=True):
            pieces.append((max(a, o), min(b, c)))
    return GapReport(judged, tuple(_joined(pieces, days, threshold)))


def _joined(
    pieces: list[tuple[int, int]],
    days: list[tuple[date, datetime, datetime]],
    threshold: int,
) -> list[Gap]:
    """Uncovered pieces, a piece ending at a close joined to one starting at the next
    open; those of at least ``threshold`` market time."""
    next_open = {_ns(a[2]): _ns(b[1]) for a, b in pairwise(days)}
    out: list[Gap] = []
    run: list[tuple[int, int]] = []

    def flush() -> None:
        market = sum(b - a for a, b in run)
        if run and market >= threshold:
            span = timedelta(microseconds=market // _NS)
            out.append(Gap(_at(run[0][0]), _at(run[-1][1]), span, len(run)))
        run.clear()

    for a, b in pieces:
        if run and a != next_open.get(run[-1][1]):
            flush()
        run.append((a, b))
    flush()
    return out


def _missing_days(ns: np.ndarray, calendar: MarketCalendar) -> GapReport:
    """Daily bars: sessions between the first and the last bar with no bar on their date."""
    held = {_at(int(t)).date() for t in ns}
    days = calendar.sessions(min(held), max(held))
    out: list[Gap] = []
    run: list[tuple[date, datetime, datetime]] = []
    for session in [*days, None]:
        if session is not None and session[0] not in held:
            run.append(session)
            continue
        if run:
            market = sum((c - o for _d, o, c in run), timedelta(0))
            out.append(Gap(run[0][1], run[-1][2], market, len(run)))
            run = []
    return GapReport(len(days), tuple(out))
