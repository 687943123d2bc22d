"""The bar cache: LRU and size bounds, TTL on an injected clock, statistics, threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from stockyard.core import Timeframe
from stockyard.data import BarCache, CachedSource, SyntheticSource

START, END = datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tiny(rows: int = 1) -> pa.Table:
    return pa.table({"x": list(range(rows))})


def test_a_stored_table_is_returned_and_counted_as_a_hit() -> None:
    cache = BarCache()
    table = tiny()
    cache.put("k", table)
    assert cache.get("k") is table
    assert cache.get("other") is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.hit_rate) == (1, 1, 1, 0.5)


def test_entries_expire_after_the_ttl_on_the_injected_clock() -> None:
    clock = Clock()
    cache = BarCache(ttl=10.0, clock=clock)
    cache.put("k", tiny())
    clock.now = 9.9
    assert cache.get("k") is not None
    clock.now = 10.0
    assert cache.get("k") is None
    stats = cache.stats()
    assert (stats.expirations, stats.entries, stats.bytes) == (1, 0, 0)


def test_the_least_recently_used_entry_is_evicted_first() -> None:
    cache = BarCache(max_entries=2)
    cache.put("a", tiny())
    cache.put("b", tiny())
    cache.get("a")
    cache.put("c", tiny())
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert cache.stats().evictions == 1


def test_the_byte_bound_evicts_until_the_cache_fits() -> None:
    one = tiny(100)
    cache = BarCache(max_entries=100, max_bytes=one.nbytes * 2)
    for key in "abc":
        cache.put(key, tiny(100))
    assert len(cache) == 2
    assert cache.stats().bytes <= one.nbytes * 2
    cache.put("huge", tiny(10_000))
    assert cache.get("huge") is None


def test_bad_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        BarCache(max_entries=0)
    with pytest.raises(ValueError, match="ttl"):
        BarCache(ttl=0)


def test_many_threads_can_share_one_cache() -> None:
    cache = BarCache(max_entries=50)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(2000):
                key = (worker, i % 80)
                if cache.get(key) is None:
                    cache.put(key, tiny())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert errors == []
    assert stats.hits + stats.misses == 8 * 2000
    assert stats.entries == len(cache) <= 50


def test_a_lookup_that_hits_takes_about_a_microsecond() -> None:
    cache = BarCache()
    key = ("local", "1Min", START, END, "AAPL")
    cache.put(key, tiny())
    get = cache.get
    n = 50_000
    began = time.perf_counter()
    for _ in range(n):
        get(key)
    assert (time.perf_counter() - began) / n < 5e-6  # ~0.3 µs here; generous for CI


class Counting:
    """A source that counts how often it is asked, and for what."""

    name = "counting"

    def __init__(self) -> None:
        self.inner = SyntheticSource(seed=1)
        self.asked: list[tuple[str, ...]] = []

    def get_bars(
        self, symbols: Sequence[str], timeframe: Timeframe, start: datetime, end: datetime
    ) -> Mapping[str, pa.Table]:
        self.asked.append(tuple(symbols))
        return self.inner.get_bars(symbols, timeframe, start, end)


def test_the_cached_source_asks_its_source_only_for_what_it_lacks() -> None:
    source = Counting()
    cached = CachedSource(source, BarCache())
    first = cached.get_bars(["AAPL"], Timeframe.MINUTE, START, END)
    both = cached.get_bars(["AAPL", "MSFT"], Timeframe.MINUTE, START, END)
    again = cached.get_bars(["MSFT", "AAPL"], Timeframe.MINUTE, START, END)
    assert source.asked == [("AAPL",), ("MSFT",)]
    assert both["AAPL"] is first["AAPL"]
    assert list(again) == ["MSFT", "AAPL"]
    assert cached.name == "counting"


def test_a_symbol_with_no_bars_is_remembered_as_absent() -> None:
    source = Counting()
    cached = CachedSource(source, BarCache())
    weekend = (datetime(2024, 3, 9, tzinfo=UTC), datetime(2024, 3, 10, tzinfo=UTC))
    assert cached.get_bars(["AAPL"], Timeframe.MINUTE, *weekend) == {}
    assert cached.get_bars(["AAPL"], Timeframe.MINUTE, *weekend) == {}
    assert source.asked == [("AAPL",)]
