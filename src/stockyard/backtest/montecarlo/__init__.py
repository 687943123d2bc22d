"""Monte Carlo of backtest results: trade bootstrap and permutation, block bootstrap of
daily returns, randomised entry delay and slippage. Vectorised numpy, seeded."""

from stockyard.backtest.montecarlo._montecarlo import (
    MonteCarloMethod,
    bootstrap_returns,
    monte_carlo,
)
from stockyard.backtest.montecarlo._paths import BAND_PERCENTILES, MonteCarloResult, histogram

__all__ = [
    "BAND_PERCENTILES",
    "MonteCarloMethod",
    "MonteCarloResult",
    "bootstrap_returns",
    "histogram",
    "monte_carlo",
]
