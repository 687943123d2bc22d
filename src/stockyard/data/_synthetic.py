"""Deterministic, realistic synthetic bars: a ``HistoricalSource`` that needs no network.

The model, per asset class (stocks on NYSE hours, crypto 24/7):

* a daily level, one draw per calendar day since 2000-01-01, so any day's price is known
  without generating minutes before it: log returns are a market factor times a per-symbol
  loading plus an idiosyncratic part (so symbols correlate), scaled by a 2-state Markov
  volatility regime shared by the market; stocks also gap overnight, with rare jumps;
* minutes inside each day, drawn from a generator seeded by (seed, symbol, date) and tied
  to the daily level by a Brownian bridge, with U-shaped intraday volatility and volume.

Every random stream is seeded from a stable hash of (seed, names, date), so the same
request gives the same table and a sub-range equals the same rows cut from a larger one.
Coarser timeframes are the minutes aggregated with ``resample``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pyarrow as pa

from stockyard.core import BAR_SCHEMA, AssetClass, Timeframe, TimeUnit, to_ns
from stockyard.data._calendar import nyse_sessions
from stockyard.data._provenance import BarOrigin, with_origin
from stockyard.data._resample import resample
from stockyard.data._source import BarTables
from stockyard.data._synthetic_model import DAY_NS, MINUTE_NS, Model, anchor_day

__all__ = ["SyntheticSource"]


class SyntheticSource:
    """Seeded synthetic bars for any symbol (``BTC/USD`` style symbols trade 24/7).

    ``volatility`` scales every symbol's annual volatility (1.0: 15–45 %, crypto higher);
    ``correlation`` is the typical loading on the market factor (0 gives independent
    symbols). The same ``seed`` always gives identical tables.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        volatility: float = 1.0,
        correlation: float = 0.6,
        name: str = "synthetic",
    ) -> None:
        if not 0.0 <= correlation < 1.0:
            raise ValueError(f"correlation must be in [0, 1), got {correlation}")
        if not volatility > 0.0:
            raise ValueError(f"volatility must be > 0, got {volatility}")
        self._model = Model(seed=seed, volatility=volatility, correlation=correlation)
        self._name = name
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def seed(self) -> int:
        return self._model.seed

    def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> BarTables:
        """Bars with ``start <= timestamp < end`` for each symbol."""
        lo, hi = to_ns(start, name="start"), to_ns(end, name="end")
        out: dict[str, pa.Table] = {}
        if hi <= lo:
            return out
        pad_lo, pad_hi = _padding(timeframe)
        origin = BarOrigin("synthetic", "none", f"seed {self.seed}")
        for symbol in symbols:
            crypto = AssetClass.of_symbol(symbol) is AssetClass.CRYPTO
            minutes = self._minutes(symbol, lo - pad_lo, hi + pad_hi, crypto=crypto)
            if timeframe != Timeframe.MINUTE and minutes.num_rows:
                minutes = resample(minutes, timeframe, calendar=None if crypto else "XNYS")
            ns = minutes.column("timestamp").cast(pa.int64()).to_numpy()
            a, b = np.searchsorted(ns, [lo, hi], side="left")
            if b > a:
                out[symbol] = with_origin(minutes.slice(int(a), int(b - a)), origin)
        return out

    def _minutes(self, symbol: str, lo: int, hi: int, *, crypto: bool) -> pa.Table:
        """Whole days of 1-minute bars covering ``[lo, hi)``."""
        if crypto:
            first = lo // DAY_NS
            days = np.arange(first, -(-hi // DAY_NS), dtype=np.int64)
            starts = days * DAY_NS
            counts = np.full(len(days), 1440, dtype=np.int64)
        else:
            sessions = nyse_sessions()
            if lo < sessions.first_ns - DAY_NS * 7 or hi > sessions.last_ns + DAY_NS * 7:
                raise ValueError(
                    "synthetic stock bars cover the XNYS calendar only: "
                    f"{np.datetime64(sessions.first_ns, 'ns')} to "
                    f"{np.datetime64(sessions.last_ns, 'ns')}"
                )
            window = sessions.between(lo, hi)
            days, starts = window.day, window.open
            counts = (window.close - window.open) // MINUTE_NS
        days = days[days >= anchor_day()]
        if len(days) == 0:
            return BAR_SCHEMA.empty_table()
        starts, counts = starts[-len(days) :], counts[-len(days) :]
        with self._lock:  # the model's caches are shared between threads
            arrays = self._model.minutes(symbol, days, counts, crypto=crypto)
        ns = np.repeat(starts, counts) + _offsets(counts) * MINUTE_NS
        columns = [pa.array(ns).cast(BAR_SCHEMA.field("timestamp").type)]
        columns += [pa.array(a) for a in arrays]
        return pa.Table.from_arrays(columns, schema=BAR_SCHEMA)


def _offsets(counts: np.ndarray) -> np.ndarray:
    """0..n-1 for each day of ``counts`` minutes, concatenated."""
    total = int(counts.sum())
    firsts = np.repeat(np.cumsum(counts) - counts, counts)
    offsets: np.ndarray = np.arange(total, dtype=np.int64) - firsts
    return offsets


def _padding(timeframe: Timeframe) -> tuple[int, int]:
    """How far to widen a request so that every bin touching it is generated whole."""
    if timeframe.is_intraday:
        return DAY_NS, DAY_NS
    if timeframe.unit is TimeUnit.DAY:
        return 2 * DAY_NS, 2 * DAY_NS
    if timeframe.unit is TimeUnit.WEEK:
        return 8 * DAY_NS, 8 * DAY_NS
    return 32 * timeframe.amount * DAY_NS, 32 * timeframe.amount * DAY_NS
