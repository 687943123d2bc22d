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

from stockyard.backtest import EventEngine, build_results, compute_metrics, random_walk
from stockyard.strategy import create_strategy

__all__ = ["run_backtest_benchmark"]


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
