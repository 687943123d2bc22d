"""``stockyard bench data``: Parquet write/read speed, one symbol-month read, and the cache."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stockyard.core import BAR_SCHEMA, Timeframe
from stockyard.data import BarCache, CachedSource, ParquetStore, SyntheticSource

__all__ = ["run_data_benchmark"]

_START = datetime(2024, 1, 1, tzinfo=UTC)


def run_data_benchmark(
    *, root: Path, symbols: int = 10, days: int = 365, seed: int = 0
) -> dict[str, float | int]:
    """Generate ``days`` of 1-minute bars for ``symbols`` stocks, write them under ``root``,
    read them back, and measure the cache on a replay.

    Figures: ``rows``; ``generate_rows_per_s``, ``write_rows_per_s``, ``read_rows_per_s``
    (all symbols, whole range, median of 5 after a first read, itself reported as
    ``read_first_rows_per_s``); ``symbol_month_ms`` (one symbol, one month,
    median of 15); ``cache_lookup_ns`` (one ``BarCache.get`` hit); ``cache_hit_rate`` on a
    replay that, minute by minute through a month, asks for each symbol's bars of the day.
    """
    minute = Timeframe.MINUTE
    names = [f"SYM{i:02d}" for i in range(symbols)]
    end = _START + timedelta(days=days)
    source = SyntheticSource(seed=seed)

    began = time.perf_counter()
    tables = source.get_bars(names, minute, _START, end)
    generate_s = time.perf_counter() - began
    rows = sum(t.num_rows for t in tables.values())

    store = ParquetStore(root / "bench-store")
    for name in names:
        store.delete(name, minute)
    began = time.perf_counter()
    for name, table in tables.items():
        store.write(name, minute, table)
    write_s = time.perf_counter() - began
    del tables

    reads = []
    for _ in range(6):  # the first read warms the page cache and the allocator: reported apart
        began = time.perf_counter()
        got = store.get_bars(names, minute, _START, end)
        reads.append(time.perf_counter() - began)
        if sum(t.num_rows for t in got.values()) != rows:
            raise RuntimeError("the store gave back a different number of rows than written")
        del got
    month_start = _START + timedelta(days=min(days - 31, 59)) if days > 31 else _START
    month_end = month_start + timedelta(days=31)
    month = []
    for _ in range(15):
        began = time.perf_counter()
        store.get_bars(names[:1], minute, month_start, month_end)
        month.append(time.perf_counter() - began)

    hit_rate = _replay_hit_rate(store, names, month_start, month_end)
    return {
        "rows": rows,
        "generate_rows_per_s": round(rows / generate_s),
        "write_rows_per_s": round(rows / write_s),
        "read_rows_per_s": round(rows / statistics.median(reads[1:])),
        "read_first_rows_per_s": round(rows / reads[0]),
        "symbol_month_ms": round(statistics.median(month) * 1000, 3),
        "cache_lookup_ns": round(_lookup_ns(), 1),
        "cache_hit_rate": round(hit_rate, 5),
    }


def _replay_hit_rate(
    store: ParquetStore, names: list[str], start: datetime, end: datetime
) -> float:
    """A backtest replay: at every minute step, each symbol's strategy asks for its day."""
    cached = CachedSource(store, BarCache(max_entries=4096, ttl=3600.0))
    minute = Timeframe.MINUTE
    day = start
    while day < end:
        following = day + timedelta(days=1)
        if day.weekday() < 5:  # sessions only; a replay has nothing to step through on weekends
            for _step in range(390):
                for name in names:
                    cached.get_bars([name], minute, day, following)
        day = following
    return cached.cache.stats().hit_rate


def _lookup_ns(calls: int = 200_000) -> float:
    cache = BarCache(max_entries=4096, ttl=3600.0)
    store_key = ("local", str(Timeframe.MINUTE), _START, _START + timedelta(days=1))
    for i in range(1000):
        cache.put((*store_key, f"SYM{i}"), BAR_SCHEMA.empty_table())
    key = (*store_key, "SYM500")
    get = cache.get
    samples = []
    for _ in range(5):
        began = time.perf_counter_ns()
        for _ in range(calls):
            get(key)
        samples.append((time.perf_counter_ns() - began) / calls)
    return statistics.median(samples)
