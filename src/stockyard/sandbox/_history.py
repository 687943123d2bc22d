"""``GET /v2/account/portfolio/history`` from the sandbox's own equity record.

Intraday timeframes (1Min, 5Min, 15Min, 1H) sample the record on a grid inside each
session (regular hours, or 4:00–20:00 New York with ``extended_hours`` or
``intraday_reporting=extended_hours``, or around the clock with ``continuous``); ``1D``
takes each session's close. A point is the last equity recorded at or before its time;
nothing is reported before the first record or after the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from stockyard.data import MarketCalendar
from stockyard.sandbox._accounts import AccountBook
from stockyard.sandbox._errors import SandboxHTTPError

__all__ = ["HistoryQuery", "portfolio_history"]

_NEW_YORK = ZoneInfo("America/New_York")
_STEPS = {"1Min": 60, "5Min": 300, "15Min": 900, "1H": 3600, "1D": 86400}
_UNITS = {"D": 1, "W": 7, "M": 30, "A": 365}
_REPORTING = ("market_hours", "extended_hours", "continuous")
_MAX_POINTS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryQuery:
    """The request's parameters, as Alpaca names them (text, as they arrive)."""

    period: str | None = None
    timeframe: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    extended_hours: bool = False
    intraday_reporting: str | None = None


def _period_days(period: str) -> int:
    found = re.fullmatch(r"(\d{1,4})([DWMA])", period.strip().upper())
    if found is None:
        raise SandboxHTTPError(422, f"invalid period {period!r}: use e.g. 1D, 2W, 1M, 1A")
    return int(found.group(1)) * _UNITS[found.group(2)]


def _window(q: HistoryQuery, now: datetime) -> tuple[datetime, datetime, int]:
    if q.period and q.start and q.end:
        raise SandboxHTTPError(422, "give period, or start and end, not all three")
    end = min(q.end or now, now)
    days = _period_days(q.period) if q.period else None
    if q.start is not None:
        start = q.start
        if q.end is None and days is not None:
            end = min(start + timedelta(days=days), now)
    else:
        start = end - timedelta(days=days if days is not None else 30)
    if end < start:
        raise SandboxHTTPError(422, "end must not be before start")
    return start, end, (end - start).days


def _timeframe(q: HistoryQuery, span_days: int) -> str:
    if q.timeframe is None:
        return "1Min" if span_days < 7 else "15Min" if span_days < 30 else "1D"
    if q.timeframe not in _STEPS:
        raise SandboxHTTPError(422, f"invalid timeframe {q.timeframe!r}: use {', '.join(_STEPS)}")
    if q.timeframe != "1D" and span_days > 30:
        raise SandboxHTTPError(422, "a period longer than 30 days takes timeframe 1D only")
    return q.timeframe


def _intraday_times(
    start: datetime, end: datetime, step: int, *, reporting: str, calendar: MarketCalendar
) -> list[int]:
    lo, hi = int(start.timestamp()), int(end.timestamp())
    if reporting == "continuous":
        first = -(-lo // step) * step
        return list(range(first, hi + 1, step))[-_MAX_POINTS:]
    times: list[int] = []
    for day, core_open, core_close in calendar.sessions(
        start.date() - timedelta(days=1), end.date()
    ):
        opened, closed = core_open, core_close
        if reporting == "extended_hours":
            opened = datetime.combine(day, time(4), _NEW_YORK).astimezone(UTC)
            closed = datetime.combine(day, time(20), _NEW_YORK).astimezone(UTC)
        t0, t1 = max(int(opened.timestamp()), lo), min(int(closed.timestamp()), hi)
        first = int(opened.timestamp()) + -(-(t0 - int(opened.timestamp())) // step) * step
        times.extend(range(first, t1 + 1, step))
    return times[-_MAX_POINTS:]


def _daily_times(
    start: datetime, end: datetime, calendar: MarketCalendar
) -> list[tuple[int, int, date]]:
    """(stamp, value time, day) per session: stamped at midnight New York as Alpaca does."""
    out = []
    for day, opened, closed in calendar.sessions(start.date(), end.date()):
        if opened > end:
            break
        stamp = datetime.combine(day, time(0), _NEW_YORK)
        out.append((int(stamp.timestamp()), int(min(closed, end).timestamp()), day))
    return out


def portfolio_history(
    book: AccountBook,
    account_id: str,
    q: HistoryQuery,
    *,
    now: datetime,
    calendar: MarketCalendar,
) -> dict[str, object]:
    """The ``PortfolioHistory`` answer for ``q`` at clock time ``now``."""
    reporting = q.intraday_reporting or ("extended_hours" if q.extended_hours else "market_hours")
    if reporting not in _REPORTING:
        raise SandboxHTTPError(422, f"invalid intraday_reporting {reporting!r}")
    start, end, span = _window(q, now)
    timeframe = _timeframe(q, span)
    first = book.first_record(account_id)
    pairs: list[tuple[int, int]]
    if timeframe == "1D":
        pairs = [(stamp, at) for stamp, at, _ in _daily_times(start, end, calendar)]
    else:
        grid = _intraday_times(
            start, end, _STEPS[timeframe], reporting=reporting, calendar=calendar
        )
        pairs = [(t, t) for t in grid]
    stamps: list[int] = []
    equity: list[float] = []
    for stamp, at in pairs:
        value = book.equity_at(account_id, at) if first is not None and at >= first else None
        if value is not None:
            stamps.append(stamp)
            equity.append(round(value, 4))
    base, base_asof = _base(
        book, account_id, start=start, timeframe=timeframe, calendar=calendar, equity=equity
    )
    profit = [round(e - base, 4) for e in equity] if base is not None else []
    answer: dict[str, object] = {
        "timestamp": stamps,
        "equity": equity,
        "profit_loss": profit,
        "profit_loss_pct": [round(p / base, 6) if base else 0.0 for p in profit],
        "base_value": base,
        "timeframe": timeframe,
        "cashflow": {},
    }
    if base_asof is not None:
        answer["base_value_asof"] = base_asof.isoformat()
    return answer


def _base(
    book: AccountBook,
    account_id: str,
    *,
    start: datetime,
    timeframe: str,
    calendar: MarketCalendar,
    equity: list[float],
) -> tuple[float | None, date | None]:
    """The previous session's closing equity (intraday), else the first point."""
    if timeframe != "1D":
        before = calendar.sessions(start.date() - timedelta(days=10), start.date())
        closes = [(d, c) for d, _, c in before if c <= start]
        if closes:
            day, close = closes[-1]
            value = book.equity_at(account_id, int(close.timestamp()))
            if value is not None:
                return round(value, 4), day
    return (equity[0], None) if equity else (None, None)
