"""Resampling: OHLCV aggregation and Alpaca-style bins, checked on hand-made bars."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from stockyard.core import Timeframe
from stockyard.data import resample


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def table(
    rows: list[tuple[datetime, float, float, float, float, float, int | None, float | None]],
) -> pa.Table:
    names = ["timestamp", "open", "high", "low", "close", "volume", "trade_count", "vwap"]
    columns = list(zip(*rows, strict=True))
    data = {name: list(column) for name, column in zip(names, columns, strict=True)}
    return pa.table(
        {
            **data,
            "timestamp": pa.array(data["timestamp"], pa.timestamp("ns", tz="UTC")),
            "trade_count": pa.array(data["trade_count"], pa.int64()),
            "vwap": pa.array(data["vwap"], pa.float64()),
        }
    )


def test_five_minute_bars_take_first_open_extremes_last_close_and_sums() -> None:
    minutes = table(
        [
            (utc(2024, 1, 2, 14, 30), 10, 11, 9, 10.5, 100, 5, 10.0),
            (utc(2024, 1, 2, 14, 31), 10.5, 12, 10, 11, 300, 7, 11.0),
            (utc(2024, 1, 2, 14, 34), 11, 11.5, 8, 9, 0, None, None),
            (utc(2024, 1, 2, 14, 35), 9, 9, 9, 9, 50, 1, 9.0),
        ]
    )
    out = resample(minutes, Timeframe.MINUTE_5).to_pylist()
    assert [row["timestamp"] for row in out] == [utc(2024, 1, 2, 14, 30), utc(2024, 1, 2, 14, 35)]
    first = out[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (10, 12, 8, 9)
    assert (first["volume"], first["trade_count"]) == (400, 12)
    assert first["vwap"] == pytest.approx((10.0 * 100 + 11.0 * 300) / 400)
    assert out[1]["volume"] == 50


def test_missing_trade_counts_and_vwaps_stay_missing() -> None:
    minutes = table([(utc(2024, 1, 2, 14, 30), 10, 11, 9, 10, 0, None, None)])
    row = resample(minutes, Timeframe.HOUR).to_pylist()[0]
    assert row["trade_count"] is None
    assert row["vwap"] is None


def test_hour_bars_are_clock_aligned_and_hold_only_session_minutes() -> None:
    minutes = table(
        [
            (utc(2024, 1, 2, 14, 0), 1, 1, 1, 1, 1, 1, 1.0),  # 09:00 ET: before the open
            (utc(2024, 1, 2, 14, 30), 2, 2, 2, 2, 1, 1, 2.0),  # 09:30 ET
            (utc(2024, 1, 2, 14, 59), 3, 3, 3, 3, 1, 1, 3.0),
            (utc(2024, 1, 2, 15, 0), 4, 4, 4, 4, 1, 1, 4.0),  # 10:00 ET
        ]
    )
    plain = resample(minutes, Timeframe.HOUR).to_pylist()
    assert [(r["timestamp"].hour, r["open"]) for r in plain] == [(14, 1), (15, 4)]
    nyse = resample(minutes, Timeframe.HOUR, calendar="XNYS").to_pylist()
    assert [(r["timestamp"].hour, r["open"], r["volume"]) for r in nyse] == [(14, 2, 2), (15, 4, 1)]


def test_a_daily_bar_is_one_session_stamped_at_new_york_midnight() -> None:
    minutes = table(
        [
            (utc(2024, 1, 2, 14, 30), 10, 10, 10, 10, 1, 1, 10.0),
            (utc(2024, 1, 2, 20, 59), 11, 11, 11, 11, 1, 1, 11.0),  # 15:59 ET
            (utc(2024, 1, 3, 1, 0), 50, 50, 50, 50, 1, 1, 50.0),  # 20:00 ET: after hours
            (utc(2024, 1, 3, 14, 30), 12, 12, 12, 12, 1, 1, 12.0),
        ]
    )
    days = resample(minutes, Timeframe.DAY, calendar="XNYS").to_pylist()
    assert [r["timestamp"] for r in days] == [utc(2024, 1, 2, 5), utc(2024, 1, 3, 5)]
    assert [(r["open"], r["close"], r["volume"]) for r in days] == [(10, 11, 2), (12, 12, 1)]
    utc_days = resample(minutes, Timeframe.DAY).to_pylist()
    assert [r["timestamp"] for r in utc_days] == [utc(2024, 1, 2), utc(2024, 1, 3)]


def test_a_half_day_ends_at_one_in_the_afternoon() -> None:
    # 2024-11-29, the day after Thanksgiving, closes at 13:00 ET (18:00 UTC).
    minutes = table(
        [
            (utc(2024, 11, 29, 17, 59), 10, 10, 10, 10, 1, 1, 10.0),
            (utc(2024, 11, 29, 18, 0), 99, 99, 99, 99, 1, 1, 99.0),
        ]
    )
    day = resample(minutes, Timeframe.DAY, calendar="XNYS").to_pylist()
    assert [(r["timestamp"], r["close"]) for r in day] == [(utc(2024, 11, 29, 5), 10)]


def test_daylight_saving_moves_the_daily_stamp_with_new_york() -> None:
    minutes = table(
        [
            (utc(2024, 3, 8, 14, 30), 1, 1, 1, 1, 1, 1, 1.0),  # EST: 09:30 is 14:30 UTC
            (utc(2024, 3, 11, 13, 30), 2, 2, 2, 2, 1, 1, 2.0),  # EDT: 09:30 is 13:30 UTC
        ]
    )
    days = resample(minutes, Timeframe.DAY, calendar="XNYS").to_pylist()
    assert [r["timestamp"] for r in days] == [utc(2024, 3, 8, 5), utc(2024, 3, 11, 4)]


def test_weeks_and_months_group_whole_periods() -> None:
    daily = table(
        [
            (utc(2024, 1, 31), 1, 1, 1, 1, 1, 1, 1.0),  # Wednesday
            (utc(2024, 2, 2), 2, 2, 2, 2, 1, 1, 2.0),  # Friday, same week
            (utc(2024, 2, 5), 3, 3, 3, 3, 1, 1, 3.0),  # next Monday
        ]
    )
    weeks = resample(daily, Timeframe.WEEK).to_pylist()
    assert [(r["timestamp"], r["volume"]) for r in weeks] == [
        (utc(2024, 1, 29), 2),
        (utc(2024, 2, 5), 1),
    ]
    months = resample(daily, Timeframe.MONTH).to_pylist()
    assert [(r["timestamp"], r["close"]) for r in months] == [
        (utc(2024, 1, 1), 1),
        (utc(2024, 2, 1), 3),
    ]
    quarter = resample(daily, Timeframe.parse("3Month")).to_pylist()
    assert [(r["timestamp"], r["volume"]) for r in quarter] == [(utc(2024, 1, 1), 3)]
