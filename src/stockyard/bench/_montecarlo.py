"""``stockyard bench montecarlo``: 10,000 block-bootstrap paths of 2,520 days."""

from __future__ import annotations

import time

import numpy as np

from stockyard.backtest.montecarlo import bootstrap_returns

__all__ = ["run_montecarlo_benchmark"]


def run_montecarlo_benchmark(
    *, paths: int = 10_000, steps: int = 2_520, seed: int = 0
) -> dict[str, object]:
    """Stationary block bootstrap (mean block 20 days) of 2,520 synthetic daily returns
    into ``paths`` × ``steps`` paths: final equity, CAGR, max drawdown, ruin and the
    5/25/50/75/95 bands. ``wall_s``: best of 3 runs after one warm-up."""
    returns = np.random.default_rng(seed).normal(0.0004, 0.012, size=steps)
    bootstrap_returns(returns, paths=min(paths, 500), seed=seed)
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        result = bootstrap_returns(returns, paths=paths, steps=steps, seed=seed)
        timings.append(time.perf_counter() - began)
    return {
        "paths": result.paths,
        "steps": result.steps,
        "wall_s": round(min(timings), 4),
        "path_steps_per_s": round(paths * steps / min(timings)),
        "method": result.method,
        "median_final": round(float(np.median(result.final_equity)), 4),
    }
