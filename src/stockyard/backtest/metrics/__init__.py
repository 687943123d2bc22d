"""Performance metrics of backtest results (returns, risk, trades, alpha and beta)."""

from stockyard.backtest.metrics._drawdown import Drawdown, drawdown, drawdown_series
from stockyard.backtest.metrics._metrics import Metrics, compute_metrics, return_metrics
from stockyard.backtest.metrics._periods import TRADING_DAYS, Periods, period_ends, period_returns

__all__ = [
    "TRADING_DAYS",
    "Drawdown",
    "Metrics",
    "Periods",
    "compute_metrics",
    "drawdown",
    "drawdown_series",
    "period_ends",
    "period_returns",
    "return_metrics",
]
