"""Bars for the event engine: loaded once into columns, replayed as merged ``BarRow`` s.

A user's file (``timestamp,open,high,low,close,volume`` CSV or Parquet) goes through the
data layer's importer, which validates every row and reports bad lines; it is held in
memory, never written to the store. Stored or synthetic bars come from any
``HistoricalSource``. Rows are made in bulk without a Python-level constructor per row.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from stockyard.core import Bar, Timeframe, TimeUnit, ns_to_datetime
from stockyard.data import (
    BarOrigin,
    BarTables,
    HistoricalSource,
    Provenance,
    SourceChain,
    WriteResult,
    import_file,
    origin_of,
)
from stockyard.strategy import BarRow

__all__ = ["BarData", "SymbolBars", "load_file", "load_source", "span_ns"]

_NS_PER_S = 1_000_000_000
UNKNOWN_ORIGIN = BarOrigin("unknown")
_MONTH_NS = 28 * 86400 * _NS_PER_S


def span_ns(timeframe: Timeframe) -> int:
    """How long one bar lasts in ns (a month counts as its shortest, 28 days)."""
    if timeframe.unit is TimeUnit.MONTH:
        return _MONTH_NS * timeframe.amount
    return timeframe.seconds * _NS_PER_S


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolBars:
    """One symbol's bars as columns (``ts`` in UTC ns, bar open times, increasing)."""

    symbol: str
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        # Every row is checked here, where the rows are made, in one vectorised pass; the
        # first bad one is handed to ``core.Bar``, whose own error names what is wrong. The
        # replay loop then passes rows on as they are.
        o, h, lo, c, v = self.open, self.high, self.low, self.close, self.volume
        with np.errstate(invalid="ignore"):
            good = (
                (lo >= 0.0)
                & (lo <= o)
                & (o <= h)
                & (lo <= c)
                & (c <= h)
                & np.isfinite(h)
                & (v >= 0.0)
                & np.isfinite(v)
            )
        if self.symbol and bool(good.all()):
            return
        i = int(np.argmin(good)) if good.size else 0
        Bar(
            self.symbol,
            ns_to_datetime(int(self.ts[i])),
            float(o[i]),
            float(h[i]),
            float(lo[i]),
            float(c[i]),
            float(v[i]),
        )
        raise ValueError(f"bar {i} of {self.symbol!r} is not a valid bar")  # Bar accepted it

    def __len__(self) -> int:
        return int(self.ts.size)

    def between(self, start_ns: int, end_ns: int) -> SymbolBars:
        """The bars with ``start_ns <= ts < end_ns``."""
        a, b = np.searchsorted(self.ts, [start_ns, end_ns], side="left")
        return SymbolBars(
            symbol=self.symbol,
            ts=self.ts[a:b],
            open=self.open[a:b],
            high=self.high[a:b],
            low=self.low[a:b],
            close=self.close[a:b],
            volume=self.volume[a:b],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BarData:
    """The bars of a backtest: per symbol, and how long one bar is (``span_ns``);
    ``provenance``: where each symbol's bars came from and how they are adjusted."""

    symbols: tuple[SymbolBars, ...]
    span_ns: int
    timeframe: Timeframe
    provenance: Mapping[str, Provenance] = field(default_factory=dict)

    @classmethod
    def from_tables(
        cls,
        tables: BarTables,
        *,
        timeframe: Timeframe,
        sources: Mapping[str, str] | str | None = None,
    ) -> BarData:
        """From ``BAR_SCHEMA`` tables by symbol (sorted by timestamp, as sources give them);
        ``sources`` names where each symbol's table was read (one name for all), its origin
        is the one the table carries."""
        provenance = {}
        if sources is not None:
            for symbol, table in tables.items():
                where = sources if isinstance(sources, str) else sources.get(symbol, "unknown")
                provenance[symbol] = Provenance(where, origin_of(table) or UNKNOWN_ORIGIN)
        found = []
        for symbol in sorted(tables):
            table = tables[symbol]
            if table.num_rows == 0:
                continue
            found.append(
                SymbolBars(
                    symbol=symbol,
                    ts=table.column("timestamp").cast(pa.int64()).to_numpy(),
                    **{
                        name: table.column(name).to_numpy().astype(np.float64, copy=False)
                        for name in ("open", "high", "low", "close", "volume")
                    },
                )
            )
        return cls(
            symbols=tuple(found),
            span_ns=span_ns(timeframe),
            timeframe=timeframe,
            provenance={s.symbol: provenance[s.symbol] for s in found if s.symbol in provenance},
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.symbol for s in self.symbols)

    @property
    def bars(self) -> int:
        return sum(len(s) for s in self.symbols)

    @property
    def start_ns(self) -> int:
        return min(int(s.ts[0]) for s in self.symbols if len(s))

    @property
    def end_ns(self) -> int:
        """One past the last bar's open time (its close)."""
        return max(int(s.ts[-1]) for s in self.symbols if len(s)) + self.span_ns

    def between(self, start_ns: int, end_ns: int) -> BarData:
        """The bars with ``start_ns <= ts < end_ns`` (walk-forward windows)."""
        cut = tuple(s.between(start_ns, end_ns) for s in self.symbols)
        kept = tuple(s for s in cut if len(s))
        return BarData(
            symbols=kept,
            span_ns=self.span_ns,
            timeframe=self.timeframe,
            provenance={
                s.symbol: self.provenance[s.symbol] for s in kept if s.symbol in self.provenance
            },
        )

    def rows(self) -> list[BarRow]:
        """Every bar as a ``BarRow``, merged in time order (ties: symbols in name order)."""
        return [row for chunk in self.row_chunks(max(self.bars, 1)) for row in chunk]

    def row_chunks(self, size: int) -> Iterator[list[BarRow]]:
        """:meth:`rows` in consecutive lists of at most ``size`` rows: a replay that takes
        them a chunk at a time holds one chunk of row objects (≈ 350 bytes a bar), not all."""
        if len(self.symbols) == 1:
            bars = self.symbols[0]
            for start in range(0, len(bars), size):
                yield _rows(bars, start, start + size)
            return
        ts = np.concatenate([s.ts for s in self.symbols])
        which = np.concatenate([np.full(len(s), i) for i, s in enumerate(self.symbols)])
        order = np.lexsort((which, ts))
        names = np.array([s.symbol for s in self.symbols], dtype=object)
        columns = [
            np.concatenate([getattr(s, name) for s in self.symbols])
            for name in ("open", "high", "low", "close", "volume")
        ]
        make = partial(tuple.__new__, BarRow)
        for start in range(0, order.size, size):
            at = order[start : start + size]
            cells = [names[which[at]].tolist(), ts[at].tolist(), *(c[at].tolist() for c in columns)]
            with _no_collection():
                yield list(map(make, zip(*cells, strict=True)))


def _rows(bars: SymbolBars, start: int, stop: int) -> list[BarRow]:
    make = partial(tuple.__new__, BarRow)  # a row without the Python-level __new__
    columns = [
        getattr(bars, name)[start:stop].tolist()
        for name in ("ts", "open", "high", "low", "close", "volume")
    ]
    with _no_collection():
        return list(map(make, zip([bars.symbol] * len(columns[0]), *columns, strict=True)))


@contextmanager
def _no_collection() -> Iterator[None]:
    """The garbage collector paused while rows are made: a million new tuples (none of
    them garbage) would start dozens of collections, each walking every row made so far
    (measured: most of the time of making 500,000 rows)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class _Held:
    """A store that keeps what the importer writes, in memory."""

    def __init__(self) -> None:
        self.table: pa.Table | None = None

    def write(self, symbol: str, timeframe: Timeframe, table: pa.Table) -> WriteResult:
        self.table = table
        return WriteResult(rows_written=table.num_rows, rows_deduplicated=0)


def load_file(
    path: Path | str, *, symbol: str, timeframe: Timeframe | None = None, tz: str = "UTC"
) -> BarData:
    """A user's CSV or Parquet of bars (validated; ``DataImportError`` lists bad rows).

    Without ``timeframe`` the bar length is the most common step between timestamps.
    """
    held = _Held()
    import_file(path, symbol=symbol, timeframe=timeframe or Timeframe.MINUTE, store=held, tz=tz)
    assert held.table is not None  # import_file writes or raises
    if timeframe is None:
        timeframe = _infer_timeframe(held.table.column("timestamp").cast(pa.int64()).to_numpy())
    return BarData.from_tables({symbol: held.table}, timeframe=timeframe, sources="file")


def load_source(
    source: HistoricalSource,
    symbols: Sequence[str],
    *,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
) -> BarData:
    """Bars of ``symbols`` from a store or the synthetic source, ``start <= t < end``."""
    if isinstance(source, SourceChain):
        found = source.fetch(symbols, timeframe, start, end)
        return BarData.from_tables(found.tables, timeframe=timeframe, sources=found.origin)
    tables: Mapping[str, pa.Table] = source.get_bars(symbols, timeframe, start, end)
    return BarData.from_tables(tables, timeframe=timeframe, sources=source.name)


_STEPS = (
    (60, "1Min"),
    (300, "5Min"),
    (900, "15Min"),
    (1800, "30Min"),
    (3600, "1Hour"),
    (86400, "1Day"),
)


def _infer_timeframe(ns: np.ndarray) -> Timeframe:
    if ns.size < 2:
        return Timeframe.DAY
    steps, counts = np.unique(np.diff(ns) // _NS_PER_S, return_counts=True)
    step = int(steps[np.argmax(counts)])
    for seconds, text in _STEPS:
        if step <= seconds:
            return Timeframe.parse(text)
    return Timeframe.parse("1Week") if step <= 7 * 86400 else Timeframe.parse("1Month")
