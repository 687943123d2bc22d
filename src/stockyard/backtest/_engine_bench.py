"""``stockyard bench backtest``: bars per second through the event engine with ``sma_cross``.

One symbol, ``bars`` one-minute bars of a seeded random walk (valid OHLC, always-open
calendar so every bar trades). ``bars_per_s`` times the replay itself (every bar through
the kernel: exchange, runner, strategy, orders, fills, portfolio); rows are made before
the clock starts, as the engine makes them from a bar table, and that step and the results
(metrics included) are timed apart (``prepare_s``, ``results_s``, ``end_to_end_bars_per_s``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from stockyard.backtest._engine import EventEngine
from stockyard.backtest._engine_data import BarData, SymbolBars
from stockyard.backtest._engine_results import build_results
from stockyard.backtest.metrics import compute_metrics
from stockyard.core import Timeframe
from stockyard.strategy import create_strategy

__all__ = ["random_walk", "run_backtest_benchmark"]

_MINUTE_NS = 60_000_000_000
_T0_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC


def random_walk(
    bars: int, *, seed: int = 0, symbol: str = "AAPL", start_ns: int = _T0_NS
) -> BarData:
    """``bars`` seeded one-minute bars: close a geometric random walk, open the previous
    close, high and low around both."""
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


def run_backtest_benchmark(*, bars: int = 1_000_000, seed: int = 0) -> dict[str, Any]:
    """Time ``sma_cross`` over ``bars`` bars through the event engine; see the module doc."""
    data = random_walk(bars, seed=seed)
    started = time.perf_counter()
    engine = EventEngine(data, [create_strategy("sma_cross", symbols=["AAPL"])])
    rows = data.rows()
    prepare_s = time.perf_counter() - started
    started = time.perf_counter()
    run = engine.run_rows(rows)
    replay_s = time.perf_counter() - started
    started = time.perf_counter()
    results = build_results(run)
    compute_metrics(results)
    results_s = time.perf_counter() - started
    return {
        "bars": bars,
        "bars_per_s": round(bars / replay_s),
        "ns_per_bar": round(replay_s / bars * 1e9, 1),
        "orders": len(run.orders),
        "fills": len(run.fills),
        "trades": len(results.trades),
        "prepare_s": round(prepare_s, 3),
        "replay_s": round(replay_s, 3),
        "results_s": round(results_s, 3),
        "end_to_end_bars_per_s": round(bars / (prepare_s + replay_s + results_s)),
    }
