"""The synthetic source: seeded, anchored to dates, on NYSE hours (crypto 24/7), realistic."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from stockyard.core import Timeframe, validate_bar_table
from stockyard.data import HistoricalSource, SyntheticSource

NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def times(table: pa.Table) -> list[datetime]:
    return [t.to_pydatetime() for t in table.column("timestamp").to_pandas()]


def test_it_is_a_historical_source() -> None:
    assert isinstance(SyntheticSource(seed=1), HistoricalSource)


def test_the_same_seed_gives_identical_tables_and_another_seed_does_not() -> None:
    args = (["AAPL", "BTC/USD"], Timeframe.MINUTE, utc(2024, 3, 4), utc(2024, 3, 6))
    first = SyntheticSource(seed=7).get_bars(*args)
    again = SyntheticSource(seed=7).get_bars(*args)
    other = SyntheticSource(seed=8).get_bars(*args)
    for symbol in ("AAPL", "BTC/USD"):
        assert first[symbol].equals(again[symbol])
        assert not first[symbol].equals(other[symbol])


def test_different_symbols_get_different_series() -> None:
    bars = SyntheticSource(seed=7).get_bars(
        ["AAPL", "MSFT"], Timeframe.MINUTE, utc(2024, 3, 4), utc(2024, 3, 5)
    )
    assert bars["AAPL"].column("close") != bars["MSFT"].column("close")


@pytest.mark.parametrize("timeframe", [Timeframe.MINUTE, Timeframe.HOUR, Timeframe.DAY])
def test_a_sub_range_equals_the_same_rows_of_a_larger_request(timeframe: Timeframe) -> None:
    source = SyntheticSource(seed=3)
    year = source.get_bars(["SPY", "ETH/USD"], timeframe, utc(2023, 1, 1), utc(2023, 7, 1))
    march = SyntheticSource(seed=3).get_bars(
        ["SPY", "ETH/USD"], timeframe, utc(2023, 3, 1), utc(2023, 4, 1)
    )
    for symbol, table in march.items():
        ns = year[symbol].column("timestamp").cast(pa.int64()).to_numpy()
        lo, hi = np.searchsorted(ns, [table["timestamp"][0].value, utc_ns(2023, 4, 1)])
        assert year[symbol].slice(lo, hi - lo).equals(table)


def utc_ns(*parts: int) -> int:
    return int(utc(*parts).timestamp()) * 10**9


def test_stock_minutes_fall_inside_nyse_sessions_and_skip_holidays_and_half_days() -> None:
    # 2024-11-28 is Thanksgiving (closed); 2024-11-29 closes at 13:00 New York time.
    bars = SyntheticSource(seed=1).get_bars(
        ["AAPL"], Timeframe.MINUTE, utc(2024, 11, 27), utc(2024, 11, 30)
    )["AAPL"]
    local = [t.astimezone(NEW_YORK) for t in times(bars)]
    days = sorted({t.date().isoformat() for t in local})
    assert days == ["2024-11-27", "2024-11-29"]
    full = [t for t in local if t.day == 27]
    half = [t for t in local if t.day == 29]
    assert (full[0].strftime("%H:%M"), full[-1].strftime("%H:%M"), len(full)) == (
        "09:30",
        "15:59",
        390,
    )
    assert (half[0].strftime("%H:%M"), half[-1].strftime("%H:%M"), len(half)) == (
        "09:30",
        "12:59",
        210,
    )


def test_a_daily_stock_bar_is_one_session_stamped_at_new_york_midnight() -> None:
    bars = SyntheticSource(seed=1).get_bars(
        ["AAPL"], Timeframe.DAY, utc(2024, 11, 25), utc(2024, 12, 2)
    )["AAPL"]
    local = [t.astimezone(NEW_YORK) for t in times(bars)]
    assert [t.day for t in local] == [25, 26, 27, 29]
    assert all((t.hour, t.minute) == (0, 0) for t in local)


def test_crypto_trades_around_the_clock_every_day() -> None:
    bars = SyntheticSource(seed=1).get_bars(
        ["BTC/USD"], Timeframe.MINUTE, utc(2024, 11, 28), utc(2024, 12, 1)
    )["BTC/USD"]
    assert bars.num_rows == 3 * 1440
    assert times(bars)[0] == utc(2024, 11, 28)


def test_every_row_keeps_the_ohlc_invariants() -> None:
    bars = SyntheticSource(seed=5).get_bars(
        ["AAPL", "BTC/USD"], Timeframe.MINUTE, utc(2022, 1, 1), utc(2022, 3, 1)
    )
    for table in bars.values():
        validate_bar_table(table)  # raises on any bad row
        low, high = table["low"].to_numpy(), table["high"].to_numpy()
        vwap = table["vwap"].to_numpy()
        assert ((low <= vwap) & (vwap <= high)).all()
        assert (table["volume"].to_numpy() > 0).all()


def test_symbols_move_together_through_the_market_factor() -> None:
    names = ["AAPL", "MSFT", "NVDA", "SPY"]
    bars = SyntheticSource(seed=11).get_bars(names, Timeframe.DAY, utc(2021, 1, 1), utc(2024, 1, 1))
    returns = np.array([np.diff(np.log(bars[n]["close"].to_numpy())) for n in names])
    correlation = np.corrcoef(returns)
    assert (correlation[np.triu_indices(len(names), k=1)] > 0.1).all()


def test_intraday_volume_is_u_shaped() -> None:
    bars = SyntheticSource(seed=2).get_bars(
        ["AAPL"], Timeframe.MINUTE, utc(2024, 1, 1), utc(2024, 3, 1)
    )["AAPL"]
    volume = bars["volume"].to_numpy().reshape(-1, 390).mean(axis=0)
    assert volume[:15].mean() > 1.5 * volume[180:210].mean()
    assert volume[-15:].mean() > 1.5 * volume[180:210].mean()


def test_an_empty_or_reversed_range_gives_no_tables() -> None:
    source = SyntheticSource(seed=1)
    assert source.get_bars(["AAPL"], Timeframe.MINUTE, utc(2024, 1, 2), utc(2024, 1, 2)) == {}
    assert source.get_bars(["AAPL"], Timeframe.MINUTE, utc(2024, 1, 6), utc(2024, 1, 7)) == {}


def test_a_naive_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SyntheticSource(seed=1).get_bars(
            ["AAPL"], Timeframe.MINUTE, datetime(2024, 1, 2), utc(2024, 1, 3)
        )
