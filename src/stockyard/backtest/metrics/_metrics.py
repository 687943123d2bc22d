"""Performance metrics of a ``Results``: returns, risk, trades, against buy-and-hold.

Formulas follow empyrical's (tested against empyrical-reloaded); the conventions (daily
aggregation, 252 or 365 days a year) are in ``_periods`` and docs/backtesting.md. A metric
that is undefined for the run (no trades, no volatility, no losing trade) is ``None``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from stockyard.backtest._results import Results
from stockyard.backtest.metrics._drawdown import drawdown
from stockyard.backtest.metrics._periods import period_ends, period_returns
from stockyard.core import OrderStatus

__all__ = ["Metrics", "compute_metrics", "return_metrics"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """Every figure of a run; fractions are fractions (0.12 is 12 %), money is dollars."""

    starting_cash: float
    final_equity: float
    total_return: float
    cagr: float | None
    annual_volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_days: float
    num_trades: int
    num_orders: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: float | None
    avg_trade: float | None
    avg_win: float | None
    avg_loss: float | None
    best_trade: float | None
    worst_trade: float | None
    exposure: float
    turnover: float
    total_fees: float
    benchmark_return: float | None
    alpha: float | None
    beta: float | None
    periods: int
    periods_per_year: int
    years: float

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class _ReturnFigures:
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None


def return_metrics(
    returns: np.ndarray, *, per_year: int, risk_free: float = 0.0
) -> tuple[float | None, float | None, float | None, float | None]:
    """CAGR, annualised volatility, Sharpe and Sortino of periodic simple ``returns``.

    ``risk_free`` is an annual rate, turned into a per-period one (compounded) and taken off
    each return for Sharpe and Sortino. Volatility uses the sample standard deviation; the
    Sortino denominator is the root mean square of the negative excess returns over all
    periods. Years are ``len(returns) / per_year``.
    """
    r = np.asarray(returns, dtype=np.float64)
    n = r.size
    if n == 0:
        return None, None, None, None
    growth = float(np.prod(1.0 + r))
    years = n / per_year
    cagr = _finite(growth ** (1.0 / years) - 1.0) if growth > 0 else -1.0
    if n < 2:
        return cagr, None, None, None
    excess = r - ((1.0 + risk_free) ** (1.0 / per_year) - 1.0)
    std = float(np.std(r, ddof=1))
    volatility = std * math.sqrt(per_year)
    excess_std = float(np.std(excess, ddof=1))
    mean_excess = float(np.mean(excess))
    sharpe = mean_excess / excess_std * math.sqrt(per_year) if excess_std > 0 else None
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    sortino = mean_excess * per_year / (downside * math.sqrt(per_year)) if downside > 0 else None
    return cagr, _finite(volatility), sharpe, sortino


def _alpha_beta(
    returns: np.ndarray, bench: np.ndarray, *, per_year: int
) -> tuple[float | None, float | None]:
    if returns.size < 2:
        return None, None
    b = bench - bench.mean()
    variance = float(np.mean(b * b))
    if variance <= 0:
        return None, None
    beta = float(np.mean(b * (returns - returns.mean()))) / variance
    alpha = (1.0 + float(np.mean(returns - beta * bench))) ** per_year - 1.0
    return _finite(alpha), _finite(beta)


def _benchmark_returns(results: Results, ends_ts: np.ndarray) -> np.ndarray | None:
    """Buy-and-hold returns of the benchmark over the same periods: bought at its first
    open, marked at its last close at or before each period's end."""
    bench = results.benchmark
    if bench is None or bench.timestamps.size == 0:
        return None
    at = np.searchsorted(bench.timestamps, ends_ts, side="right") - 1
    if bool((at < 0).any()):
        return None
    marks = bench.close[at]
    previous = np.concatenate(([bench.open[0]], marks[:-1]))
    out: np.ndarray = marks / previous - 1.0
    return out


def _trade_figures(results: Results) -> dict[str, float | None]:
    pnl = np.array([t.pnl for t in results.trades], dtype=np.float64)
    rets = np.array([t.return_ for t in results.trades], dtype=np.float64)
    if pnl.size == 0:
        keys = ("win_rate", "profit_factor", "expectancy", "avg_trade", "avg_win", "avg_loss")
        return dict.fromkeys((*keys, "best_trade", "worst_trade"))
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_loss = float(-losses.sum())
    return {
        "win_rate": wins.size / pnl.size,
        "profit_factor": float(wins.sum()) / gross_loss if gross_loss > 0 else None,
        "expectancy": float(pnl.mean()),
        "avg_trade": float(rets.mean()),
        "avg_win": float(wins.mean()) if wins.size else None,
        "avg_loss": float(losses.mean()) if losses.size else None,
        "best_trade": float(rets.max()),
        "worst_trade": float(rets.min()),
    }


def compute_metrics(results: Results, *, risk_free: float = 0.0) -> Metrics:
    """All of ``Metrics`` for one run. ``risk_free`` is an annual rate (default 0)."""
    curve = results.equity
    cash0 = results.starting_cash
    periods = period_ends(curve.timestamps)
    returns = period_returns(curve.equity, periods.ends, start_value=cash0)
    cagr, volatility, sharpe, sortino = return_metrics(
        returns, per_year=periods.per_year, risk_free=risk_free
    )
    dd = drawdown(curve.timestamps, curve.equity, start_value=cash0)
    calmar = cagr / -dd.max_drawdown if cagr is not None and dd.max_drawdown < 0 else None
    bench = _benchmark_returns(results, curve.timestamps[periods.ends])
    alpha, beta = (
        _alpha_beta(returns, bench, per_year=periods.per_year)
        if bench is not None
        else (None, None)
    )
    bench_total = float(np.prod(1.0 + bench) - 1.0) if bench is not None else None
    held = np.zeros(len(curve), dtype=bool)
    for qty in curve.positions.values():
        held |= qty != 0
    filled = [o for o in results.orders if o.status is OrderStatus.FILLED]
    traded = sum(o.qty * (o.fill_price or 0.0) for o in filled)
    fees = sum(o.fee for o in results.orders)
    final = float(curve.equity[-1])
    return Metrics(
        starting_cash=cash0,
        final_equity=final,
        total_return=final / cash0 - 1.0,
        cagr=cagr,
        annual_volatility=volatility,
        sharpe=sharpe,
        sortino=sortino,
        calmar=_finite(calmar) if calmar is not None else None,
        max_drawdown=dd.max_drawdown,
        max_drawdown_days=dd.max_duration_days,
        num_trades=len(results.trades),
        num_orders=len(filled),
        exposure=float(held.mean()),
        turnover=traded / float(curve.equity.mean()),
        total_fees=float(fees),
        benchmark_return=bench_total,
        alpha=alpha,
        beta=beta,
        periods=int(returns.size),
        periods_per_year=periods.per_year,
        years=returns.size / periods.per_year,
        **_trade_figures(results),
    )
