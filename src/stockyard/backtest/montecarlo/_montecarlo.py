"""Monte Carlo of a backtest's ``Results``: the methods a user picks by name."""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from stockyard.backtest._results import JsonScalar, Results
from stockyard.backtest.metrics import period_ends, period_returns
from stockyard.backtest.montecarlo._paths import MonteCarloResult, simulate_paths
from stockyard.backtest.montecarlo._samplers import (
    Sampler,
    block_sampler,
    delay_slippage_sampler,
    trade_sampler,
)
from stockyard.core import PositionSide

__all__ = ["MonteCarloMethod", "bootstrap_returns", "monte_carlo"]


class MonteCarloMethod(StrEnum):
    """``trades``: bootstrap of trade returns (with replacement); ``permutation``: the same
    trades reshuffled (without replacement; only the order, so the drawdowns, change);
    ``blocks``: stationary block bootstrap of daily returns; ``fixed-blocks``: the same
    with fixed-length blocks; ``delay``: each trade enters late and pays slippage."""

    TRADES = "trades"
    PERMUTATION = "permutation"
    BLOCKS = "blocks"
    FIXED_BLOCKS = "fixed-blocks"
    DELAY = "delay"


def _check(paths: int, ruin_level: float) -> None:
    if isinstance(paths, bool) or not isinstance(paths, int) or paths < 1:
        raise ValueError(f"paths must be an integer >= 1, got {paths!r}")
    if not (math.isfinite(ruin_level) and 0 <= ruin_level < 1):
        raise ValueError(f"ruin_level must be in [0, 1), got {ruin_level!r}")


def bootstrap_returns(
    returns: np.ndarray,
    *,
    paths: int = 10_000,
    steps: int | None = None,
    seed: int = 0,
    block_length: float = 20.0,
    stationary: bool = True,
    start: float = 1.0,
    per_year: int = 252,
    ruin_level: float = 0.5,
) -> MonteCarloResult:
    """Block bootstrap of periodic (daily) simple ``returns`` into ``paths`` paths of
    ``steps`` periods (default: as many as given), compounded from ``start``."""
    _check(paths, ruin_level)
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim != 1 or values.size < 2 or not bool(np.isfinite(values).all()):
        raise ValueError("need at least two finite returns to bootstrap")
    if not (math.isfinite(block_length) and block_length >= 1):
        raise ValueError(f"block_length must be >= 1, got {block_length!r}")
    length = values.size if steps is None else steps
    if length < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    draw = block_sampler(values, steps=length, block_length=block_length, stationary=stationary)
    return simulate_paths(
        draw,
        method=(MonteCarloMethod.BLOCKS if stationary else MonteCarloMethod.FIXED_BLOCKS).value,
        paths=paths,
        steps=length,
        seed=seed,
        start=start,
        years=length / per_year,
        ruin_level=ruin_level,
        settings={"block_length": block_length, "per_year": per_year},
    )


def _equity_before(results: Results, times: np.ndarray) -> np.ndarray:
    curve = results.equity
    at = np.searchsorted(curve.timestamps, times, side="left") - 1
    before = np.where(at >= 0, curve.equity[np.maximum(at, 0)], results.starting_cash)
    if bool((before <= 0).any()):
        raise ValueError("equity before a trade is not positive: trade returns are undefined")
    out: np.ndarray = before
    return out


def monte_carlo(
    results: Results,
    *,
    method: MonteCarloMethod | str = MonteCarloMethod.TRADES,
    paths: int = 10_000,
    seed: int = 0,
    steps: int | None = None,
    block_length: float = 20.0,
    max_delay: int = 3,
    max_slippage_bps: float = 10.0,
    ruin_level: float = 0.5,
) -> MonteCarloResult:
    """Simulate ``paths`` alternative histories of ``results`` by ``method``.

    Trade methods take each trade's P&L as a return on the equity just before it and
    compound them over the run's span; block methods resample the run's daily returns
    (``steps`` days, default as many as the run had). ``ruin_level`` is the fraction of
    the starting cash counted as ruin. Same results and seed: the same numbers.
    """
    try:
        chosen = MonteCarloMethod(method)
    except ValueError:
        names = ", ".join(m.value for m in MonteCarloMethod)
        raise ValueError(f"unknown Monte Carlo method {method!r}: use one of {names}") from None
    _check(paths, ruin_level)
    cash = results.starting_cash
    periods = period_ends(results.equity.timestamps)
    if chosen in (MonteCarloMethod.BLOCKS, MonteCarloMethod.FIXED_BLOCKS):
        daily = period_returns(results.equity.equity, periods.ends, start_value=cash)
        return bootstrap_returns(
            daily,
            paths=paths,
            steps=steps,
            seed=seed,
            block_length=block_length,
            stationary=chosen is MonteCarloMethod.BLOCKS,
            start=cash,
            per_year=periods.per_year,
            ruin_level=ruin_level,
        )
    trades = results.trades
    if not trades:
        raise ValueError(f"the {chosen.value} method needs trades, and these results have none")
    years = periods.ends.size / periods.per_year
    entry_times = np.array([t.entry_time for t in trades], dtype=np.int64)
    before = _equity_before(results, entry_times)
    if chosen is MonteCarloMethod.DELAY:
        if isinstance(max_delay, bool) or not isinstance(max_delay, int) or max_delay < 0:
            raise ValueError(f"max_delay must be an integer >= 0, got {max_delay!r}")
        if not (math.isfinite(max_slippage_bps) and 0 <= max_slippage_bps < 10_000):
            raise ValueError(f"max_slippage_bps must be in [0, 10000), got {max_slippage_bps!r}")
        draw = _delay_draw(results, before, max_delay, max_slippage_bps / 10_000)
        settings: dict[str, JsonScalar] = {
            "max_delay": max_delay,
            "max_slippage_bps": max_slippage_bps,
        }
    else:
        returns = np.array([t.pnl for t in trades]) / before
        draw = trade_sampler(returns, replace=chosen is MonteCarloMethod.TRADES)
        settings = {}
    return simulate_paths(
        draw,
        method=chosen.value,
        paths=paths,
        steps=len(trades),
        seed=seed,
        start=cash,
        years=years,
        ruin_level=ruin_level,
        settings=settings,
    )


def _delay_draw(
    results: Results, before: np.ndarray, max_delay: int, max_slippage: float
) -> Sampler:
    trades = results.trades
    symbols = sorted({t.symbol for t in trades})
    series = []
    for symbol in symbols:
        try:
            series.append(results.price(symbol))
        except KeyError:
            raise ValueError(f"the delay method needs the prices of {symbol}") from None
    symbol_of = np.array([symbols.index(t.symbol) for t in trades], dtype=np.int64)
    entry_index = np.empty(len(trades), dtype=np.int64)
    exit_index = np.empty(len(trades), dtype=np.int64)
    for i, trade in enumerate(trades):
        stamps = series[symbol_of[i]].timestamps
        entry_index[i] = np.searchsorted(stamps, trade.entry_time)
        exit_index[i] = np.searchsorted(stamps, trade.exit_time)
        if entry_index[i] >= stamps.size or stamps[entry_index[i]] != trade.entry_time:
            raise ValueError(f"no bar of {trade.symbol} at a trade's entry time")
    return delay_slippage_sampler(
        entry_index=entry_index,
        exit_index=np.minimum(exit_index, [series[k].timestamps.size - 1 for k in symbol_of]),
        exit_price=np.array([t.exit_price for t in trades]),
        sign=np.array([1.0 if t.side is PositionSide.LONG else -1.0 for t in trades]),
        qty=np.array([t.qty for t in trades]),
        fees=np.array([t.fees for t in trades]),
        equity_before=before,
        opens=[s.open for s in series],
        symbol_of=symbol_of,
        max_delay=max_delay,
        max_slippage=max_slippage,
    )
