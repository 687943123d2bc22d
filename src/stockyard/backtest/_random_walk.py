"""Seeded one-minute bars of a random walk: the data of the benchmarks and of many tests."""

from __future__ import annotations

import numpy as np

from stockyard.backtest._engine_data import BarData, SymbolBars
from stockyard.core import Timeframe

__all__ = ["random_walk"]

_MINUTE_NS = 60_000_000_000
_T0_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC


def random_walk(
    bars: int, *, seed: int = 0, symbol: str = "AAPL", start_ns: int = _T0_NS
) -> BarData:
    """``bars`` seeded one-minute bars: close a geometric random walk, open the previous
    close, high and low around both (valid OHLC, every minute, always-open calendar)."""
    rng = np.random.default_rng(seed)
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, bars))), 2)
    open_ = np.concatenate([[100.0], close[:-1]])
    wiggle = np.round(np.abs(rng.normal(0.0, 0.05, bars)), 2)
    high = np.maximum(open_, close) + wiggle
    low = np.maximum(np.minimum(open_, close) - wiggle, 0.01)
    volume = np.round(rng.uniform(1_000, 10_000, bars))
    ts = start_ns + np.arange(bars, dtype=np.int64) * _MINUTE_NS
    series = SymbolBars(
        symbol=symbol, ts=ts, open=open_, high=high, low=low, close=close, volume=volume
    )
    return BarData(symbols=(series,), span_ns=_MINUTE_NS, timeframe=Timeframe.MINUTE)
