"""When the market trades: NYSE sessions (holidays and half days from exchange_calendars),
or always open; crypto is always open whatever the calendar. The simulator and the live node
ask this one calendar (it lives here, under both)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from functools import cache
from zoneinfo import ZoneInfo

from stockyard.core import EPOCH
from stockyard.data._calendar import nyse_sessions

__all__ = ["MarketCalendar", "Phase"]

_EPOCH_DAY = date(1970, 1, 1)
_NEW_YORK = ZoneInfo("America/New_York")
_PRE = timedelta(hours=5, minutes=30)  # pre-market opens 04:00 ET, 5 h 30 before 09:30
_POST = timedelta(hours=4)  # post-market ends 20:00 ET (17:00 on half days)
_FAR = datetime(9999, 12, 31, tzinfo=UTC)


class Phase(IntEnum):
    """Where a moment falls in the stock trading day."""

    CLOSED = 0
    PRE = 1
    OPEN = 2
    POST = 3


@cache
def _nyse() -> MarketCalendar:
    table = nyse_sessions()
    return MarketCalendar(
        [
            (_EPOCH_DAY + timedelta(days=int(d)), _at(int(o) // 1000), _at(int(c) // 1000))
            for d, o, c in zip(table.day, table.open, table.close, strict=True)
        ]
    )


def _us(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def _at(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class MarketCalendar:
    """Stock trading sessions; ``always_open()`` for data taken as it comes."""

    def __init__(self, sessions: Sequence[tuple[date, datetime, datetime]] | None) -> None:
        """``sessions``: ``(date, open, close)`` in order, or ``None`` for always open."""
        self._always = sessions is None
        rows = list(sessions or ())
        self._days = [day for day, _, _ in rows]
        self._opens = [_us(o) for _, o, _ in rows]
        self._closes = [_us(c) for _, _, c in rows]
        # Phase edges, four per session: pre-market, open, close, end of post-market.
        pre, post = _us(EPOCH + _PRE) - _us(EPOCH), _us(EPOCH + _POST) - _us(EPOCH)
        self._edges: list[int] = []
        for o, c in zip(self._opens, self._closes, strict=True):
            self._edges += [o - pre, o, c, c + post]

    @classmethod
    def nyse(cls) -> MarketCalendar:
        """NYSE ("XNYS") sessions from 2000 to about a year ahead (built once, shared)."""
        return _nyse()

    @classmethod
    def always_open(cls) -> MarketCalendar:
        """Every moment is a regular session: day orders never expire, opg/cls are refused."""
        return cls(None)

    @property
    def is_always_open(self) -> bool:
        return self._always

    def is_open(self, at: datetime) -> bool:
        """Whether the regular session is open at ``at``."""
        if self._always:
            return True
        t = _us(at)
        i = bisect_right(self._opens, t) - 1
        return i >= 0 and t < self._closes[i]

    def phase(self, at: datetime) -> tuple[Phase, datetime]:
        """The phase at ``at`` and the moment it next changes."""
        if self._always:
            return Phase.OPEN, _FAR
        k = bisect_right(self._edges, _us(at))
        until = _at(self._edges[k]) if k < len(self._edges) else _FAR
        return Phase(k % 4), until

    def session_bounds(self, day: date) -> tuple[datetime, datetime] | None:
        """Open and close of ``day``'s session; ``None`` when the market does not open."""
        if self._always:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start, start + timedelta(days=1)
        i = bisect_left(self._days, day)
        if i == len(self._days) or self._days[i] != day:
            return None
        return _at(self._opens[i]), _at(self._closes[i])

    def next_open(self, after: datetime) -> datetime:
        """The first session open strictly after ``after``."""
        if self._always:
            return after
        i = bisect_right(self._opens, _us(after))
        return _at(self._opens[i]) if i < len(self._opens) else _FAR

    def next_close(self, after: datetime) -> datetime:
        """The first session close strictly after ``after``."""
        if self._always:
            return _FAR
        i = bisect_right(self._closes, _us(after))
        return _at(self._closes[i]) if i < len(self._closes) else _FAR

    def sessions(self, start: date, end: date) -> list[tuple[date, datetime, datetime]]:
        """Sessions with ``start <= date <= end`` (GET /v2/calendar)."""
        if self._always:
            days = (start + timedelta(days=n) for n in range((end - start).days + 1))
            return [(d, *self.session_bounds(d)) for d in days]  # type: ignore[misc]
        lo, hi = bisect_left(self._days, start), bisect_right(self._days, end)
        return [(self._days[i], _at(self._opens[i]), _at(self._closes[i])) for i in range(lo, hi)]

    def trading_day(self, at: datetime) -> date:
        """The New York date of ``at`` (the day a day trade is counted on)."""
        return at.astimezone(_NEW_YORK).date()

    def window_start(self, day: date, sessions: int) -> date:
        """The first day of the window of ``sessions`` sessions that ends on ``day``."""
        if self._always:
            return day - timedelta(days=sessions - 1)
        i = bisect_right(self._days, day) - 1
        return self._days[max(i - sessions + 1, 0)] if i >= 0 else day
