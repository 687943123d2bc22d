"""``stockyard bench sweep``: (fast, slow) ``sma_cross`` pairs over a million bars."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from stockyard.backtest.vector import sma_pairs, sweep_sma
from stockyard.core import Timeframe
from stockyard.data import SyntheticSource

__all__ = ["run_sweep_benchmark"]

_START = datetime(2014, 1, 1, tzinfo=UTC)
_END = datetime(2025, 1, 1, tzinfo=UTC)


def _bars(count: int, seed: int) -> pa.Table:
    table = SyntheticSource(seed=seed).get_bars(["BENCH"], Timeframe.MINUTE, _START, _END)["BENCH"]
    if table.num_rows < count:
        raise ValueError(f"the benchmark generates at most {table.num_rows:,} bars")
    return table.slice(0, count)


def run_sweep_benchmark(
    *, bars: int = 1_000_000, combinations: int = 1000, seed: int = 0
) -> dict[str, object]:
    """``sma_cross`` over ``combinations`` (fast, slow) pairs on ``bars`` synthetic one-minute
    stock bars. Pairs: fast 2..51 × slow 60, 70, … (as many as needed), fast-major.

    ``compile_s`` is the first call (numba compiles, or loads its on-disk cache) on a small
    slice; ``wall_s`` is the timed run that follows (best of 3), all pairs, both cores;
    ``orders`` counts fills across all pairs; ``orders_per_s = orders / wall_s``.
    """
    if combinations < 1 or bars < 1000:
        raise ValueError("need at least one combination and 1,000 bars")
    table = _bars(bars, seed)
    per_fast = -(-combinations // 50)
    fast, slow = sma_pairs(range(2, 52), [60 + 10 * i for i in range(per_fast)])
    fast, slow = fast[:combinations], slow[:combinations]

    began = time.perf_counter()
    sweep_sma(table.slice(0, 1000), symbol="BENCH", fast=fast[:2], slow=slow[:2])
    compile_s = time.perf_counter() - began

    timings = []
    result = None
    for _ in range(3):
        began = time.perf_counter()
        result = sweep_sma(table, symbol="BENCH", fast=fast, slow=slow)
        timings.append(time.perf_counter() - began)
    assert result is not None
    wall = min(timings)
    orders = result.total_orders
    return {
        "bars": int(table.num_rows),
        "combinations": len(result),
        "orders": orders,
        "wall_s": round(wall, 4),
        "orders_per_s": round(orders / wall),
        "bar_steps_per_s": round(len(result) * table.num_rows / wall),
        "compile_s": round(compile_s, 3),
        "best_sharpe_pair": [
            int(result.fast[result.best()]),
            int(result.slow[result.best()]),
        ],
        "median_orders_per_pair": float(np.median(result.num_orders)),
    }
