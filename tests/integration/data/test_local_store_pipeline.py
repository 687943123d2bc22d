"""Synthetic source → Parquet store → cache → resample, on a real directory, end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from stockyard.core import Timeframe
from stockyard.data import BarCache, CachedSource, ParquetStore, SyntheticSource, resample

SYMBOLS = ["AAPL", "MSFT", "SPY", "BTC/USD"]
START, END = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)


def test_a_stored_year_reads_back_equal_and_resamples_to_the_sources_own_daily_bars(
    tmp_path: Path,
) -> None:
    source = SyntheticSource(seed=42)
    minutes = source.get_bars(SYMBOLS, Timeframe.MINUTE, START, END)
    store = ParquetStore(tmp_path)
    for symbol, table in minutes.items():
        store.write(symbol, Timeframe.MINUTE, table)

    cached = CachedSource(ParquetStore(tmp_path), BarCache(max_entries=16))
    back = cached.get_bars(SYMBOLS, Timeframe.MINUTE, START, END)
    assert set(back) == set(SYMBOLS)
    for symbol in SYMBOLS:
        assert back[symbol].equals(minutes[symbol])
        calendar = None if "/" in symbol else "XNYS"
        daily = resample(back[symbol], Timeframe.DAY, calendar=calendar)
        expected = source.get_bars([symbol], Timeframe.DAY, START, END)[symbol]
        # The source's first daily bar may be stamped before START (New York midnight).
        assert daily.slice(daily.num_rows - expected.num_rows).equals(expected)
    again = cached.get_bars(SYMBOLS, Timeframe.MINUTE, START, END)
    assert all(again[s] is back[s] for s in SYMBOLS)
    assert cached.cache.stats().hits == len(SYMBOLS)

    entries = {(e.symbol, str(e.timeframe)): e for e in store.catalog()}
    assert entries["BTC/USD", "1Min"].rows == 365 * 1440
    assert entries["AAPL", "1Min"].rows == minutes["AAPL"].num_rows
