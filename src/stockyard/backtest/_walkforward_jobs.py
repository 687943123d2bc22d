"""What a walk-forward (and a comparison) sends to a ``Pool``: one backtest a ``Job``, run by
the module-level ``evaluate`` in whichever process or Dask worker holds the bars; and what
a window's search hands back."""

from __future__ import annotations

import math
from dataclasses import dataclass

from stockyard.backtest._engine import BacktestConfig
from stockyard.backtest._engine_data import BarData
from stockyard.backtest._engine_run import backtest
from stockyard.backtest._walkforward_space import ParamSet
from stockyard.backtest.metrics import Metrics, compute_metrics
from stockyard.strategy import create_strategy

__all__ = ["LOWER_IS_BETTER", "OBJECTIVES", "Job", "Searched", "evaluate", "ranks_above"]

OBJECTIVES = tuple(
    name
    for name in Metrics.__dataclass_fields__
    if name not in ("starting_cash", "periods", "periods_per_year", "years", "num_orders")
)
# Objectives a search minimises unless told otherwise (``max_drawdown`` is <= 0: maximised).
LOWER_IS_BETTER = frozenset({"annual_volatility", "max_drawdown_days", "total_fees"})


@dataclass(frozen=True, slots=True)
class Job:
    """One backtest of a batch: a strategy with parameters over ``[start_ns, end_ns)``."""

    strategy: str
    symbols: tuple[str, ...]
    params: ParamSet
    start_ns: int
    end_ns: int
    config: BacktestConfig
    objective: str
    keep: bool = False  # send the full results back (test runs), not just the figures


def evaluate(data: BarData, job: Job) -> tuple[float, dict[str, float | int | None], bytes]:
    """Run one job: (objective, metrics, results JSON if ``keep`` else b""); an objective
    with no figure (no trades for ``win_rate``) is ``-inf``."""
    part = data.between(job.start_ns, job.end_ns)
    bot = create_strategy(job.strategy, symbols=job.symbols, params=job.params)
    results = backtest(part, [bot], job.config)
    metrics = compute_metrics(results).to_dict()
    value = metrics.get(job.objective)
    score = float(value) if isinstance(value, int | float) and math.isfinite(value) else -math.inf
    return score, metrics, results.to_json() if job.keep else b""


@dataclass(frozen=True, slots=True)
class Searched:
    """One window's search: each parameter set backtested on the train part with its score,
    in the order searched (grid order, or Optuna's trial order), and how many asked sets the
    strategy refused (never run)."""

    params: tuple[ParamSet, ...]
    scores: tuple[float, ...]
    refused: int = 0


def ranks_above(score: float, other: float, *, minimize: bool) -> bool:
    """Whether ``score`` beats ``other``; a score with no figure beats nothing."""
    if not math.isfinite(score):
        return False
    if not math.isfinite(other):
        return True
    return score < other if minimize else score > other
