"""An in-memory LRU cache of bar tables with a TTL, and a source that reads through it."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from stockyard.core import BAR_SCHEMA, Timeframe
from stockyard.data._source import BarTables, HistoricalSource

__all__ = ["BarCache", "CacheStats", "CachedSource"]


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    evictions: int  # dropped to respect the size bounds
    expirations: int  # dropped because their TTL had passed
    entries: int
    bytes: int

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class BarCache:
    """Least-recently-used tables, bounded by entry count and bytes, each with a TTL.

    Safe to share between threads and asyncio tasks: each call holds a plain lock for O(1)
    work and never awaits. ``clock`` returns seconds (monotonic); inject one in tests.
    """

    def __init__(
        self,
        *,
        max_entries: int = 4096,
        max_bytes: int | None = 1 << 30,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be > 0 seconds or None, got {ttl}")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (table, expires_at, nbytes)
        self._items: OrderedDict[Hashable, tuple[pa.Table, float, int]] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = self._evictions = self._expirations = 0

    def get(self, key: Hashable) -> pa.Table | None:
        """The table under ``key``, or ``None`` when absent or expired."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self._misses += 1
                return None
            if self._ttl is not None and self._clock() >= item[1]:
                del self._items[key]
                self._bytes -= item[2]
                self._expirations += 1
                self._misses += 1
                return None
            self._items.move_to_end(key)
            self._hits += 1
            return item[0]

    def put(self, key: Hashable, table: pa.Table) -> None:
        """Store ``table`` under ``key``, evicting the least recently used past the bounds."""
        size = table.nbytes
        expires = self._clock() + self._ttl if self._ttl is not None else float("inf")
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            if self._max_bytes is not None and size > self._max_bytes:
                return  # larger than the whole cache: keeping it would evict everything
            self._items[key] = (table, expires, size)
            self._bytes += size
            while len(self._items) > self._max_entries or (
                self._max_bytes is not None and self._bytes > self._max_bytes
            ):
                _, (_, _, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
                self._evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                expirations=self._expirations,
                entries=len(self._items),
                bytes=self._bytes,
            )


class CachedSource:
    """A ``HistoricalSource`` that answers from ``cache`` and asks ``source`` for the rest.

    Entries are per (source, symbol, timeframe, start, end); a symbol the source had no
    bars for is remembered too (as an empty table) so it is not asked again.
    """

    def __init__(self, source: HistoricalSource, cache: BarCache) -> None:
        self._source = source
        self._cache = cache

    @property
    def name(self) -> str:
        return self._source.name

    @property
    def cache(self) -> BarCache:
        return self._cache

    def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> BarTables:
        out: dict[str, pa.Table] = {}
        missing: list[str] = []
        prefix = (self._source.name, str(timeframe), start, end)
        for symbol in symbols:
            table = self._cache.get((*prefix, symbol))
            if table is None:
                missing.append(symbol)
            elif table.num_rows:
                out[symbol] = table
        if missing:
            fetched = self._source.get_bars(missing, timeframe, start, end)
            for symbol in missing:
                table = fetched.get(symbol)
                if table is None:
                    table = BAR_SCHEMA.empty_table()
                else:
                    out[symbol] = table
                self._cache.put((*prefix, symbol), table)
        return {symbol: out[symbol] for symbol in symbols if symbol in out}
