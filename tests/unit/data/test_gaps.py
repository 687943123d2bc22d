"""Gaps in stored bars, judged against the NYSE calendar (and always-open for crypto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from stockyard.core import Timeframe
from stockyard.data import MarketCalendar, find_gaps

NYSE = MarketCalendar.nyse()
MINUTE = Timeframe.parse("1Min")


def _table(times: list[datetime]) -> pa.Table:
    return pa.table({"timestamp": pa.array(times, pa.timestamp("ns", tz="UTC"))})


def _session_minutes(day: str, *, skip: range = range(0)) -> list[datetime]:
    """Every minute bar of a regular session (13:30 to 20:00 UTC in April), less ``skip``."""
    opens = datetime.fromisoformat(f"{day}T13:30:00+00:00")
    return [opens + timedelta(minutes=m) for m in range(390) if m not in skip]


def test_a_full_session_of_minute_bars_has_no_gap() -> None:
    report = find_gaps(_table(_session_minutes("2025-04-01")), timeframe=MINUTE, calendar=NYSE)
    assert report.sessions == 1
    assert report.gaps == ()


def test_an_hour_without_bars_inside_a_session_is_one_gap_of_an_hour() -> None:
    bars = _session_minutes("2025-04-01", skip=range(60, 120))
    report = find_gaps(_table(bars), timeframe=MINUTE, calendar=NYSE)
    assert len(report.gaps) == 1
    gap = report.gaps[0]
    assert gap.start == datetime(2025, 4, 1, 14, 30, tzinfo=UTC)
    assert gap.market == timedelta(hours=1)


def test_a_few_missing_minutes_are_under_the_floor_and_not_a_gap() -> None:
    bars = _session_minutes("2025-04-01", skip=range(100, 105))
    assert find_gaps(_table(bars), timeframe=MINUTE, calendar=NYSE).gaps == ()


def test_missing_sessions_are_one_gap_and_the_weekend_is_not_one() -> None:
    # Tuesday and Wednesday held, Thursday and Friday missing, Monday held: one gap of two
    # sessions (13 hours of market time); the weekend between them is no market time.
    bars = [
        *_session_minutes("2025-04-01"),
        *_session_minutes("2025-04-02"),
        *_session_minutes("2025-04-07"),
    ]
    report = find_gaps(_table(bars), timeframe=MINUTE, calendar=NYSE)
    assert [g.sessions for g in report.gaps] == [2]
    assert report.gaps[0].market == timedelta(hours=13)
    assert report.missing == timedelta(hours=13)


def test_a_missing_daily_bar_is_the_session_without_one_and_holidays_are_not() -> None:
    days = ["2025-04-15", "2025-04-16", "2025-04-21"]  # 17th missing, 18th Good Friday
    bars = [datetime.fromisoformat(f"{d}T04:00:00+00:00") for d in days]
    report = find_gaps(_table(bars), timeframe=Timeframe.parse("1Day"), calendar=NYSE)
    assert report.sessions == 4
    assert [(g.start.date().isoformat(), g.sessions) for g in report.gaps] == [("2025-04-17", 1)]


def test_crypto_is_judged_around_the_clock() -> None:
    start = datetime(2025, 4, 5, tzinfo=UTC)  # a Saturday: crypto trades
    bars = [start + timedelta(minutes=m) for m in range(120) if not 30 <= m < 60]
    report = find_gaps(_table(bars), timeframe=MINUTE, calendar=MarketCalendar.always_open())
    assert [g.market for g in report.gaps] == [timedelta(minutes=30)]
