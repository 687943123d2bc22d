"""The vectorised research path: numba kernels for signal portfolios and parameter sweeps.

Arrays in, arrays out under a thin API; the event engine does not borrow its shortcuts,
and both make the same ``sma_cross`` trades (fills at the next bar's open).
"""

from stockyard.backtest.vector._kernels import cross_signals, simulate_long, sma_diff
from stockyard.backtest.vector._portfolio import (
    BarArrays,
    Costs,
    bar_arrays,
    run_signals,
    run_sma_cross,
    sma_cross_signals,
)
from stockyard.backtest.vector._sweep import (
    SWEEP_METRICS,
    SweepResult,
    parse_range,
    sma_pairs,
    sweep_sma,
)
from stockyard.backtest.vector._sweep_kernel import sweep_sma_cross

__all__ = [
    "SWEEP_METRICS",
    "BarArrays",
    "Costs",
    "SweepResult",
    "bar_arrays",
    "cross_signals",
    "parse_range",
    "run_signals",
    "run_sma_cross",
    "simulate_long",
    "sma_cross_signals",
    "sma_diff",
    "sma_pairs",
    "sweep_sma",
    "sweep_sma_cross",
]
