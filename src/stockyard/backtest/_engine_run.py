"""One call from bars and strategies to ``Results`` and metrics (CLI, walk-forward, compare)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stockyard.backtest._costs import cost_meta
from stockyard.backtest._engine import BacktestConfig, EventEngine
from stockyard.backtest._engine_data import BarData
from stockyard.backtest._engine_results import build_results
from stockyard.backtest._results import JsonScalar, Results
from stockyard.backtest.metrics import Metrics, compute_metrics
from stockyard.strategy import Strategy

__all__ = ["backtest", "results_json"]


def backtest(
    data: BarData,
    strategies: Sequence[Strategy],
    config: BacktestConfig | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    meta: dict[str, JsonScalar] | None = None,
) -> Results:
    """Run ``strategies`` over ``data`` on the event engine; the shared ``Results``, with
    the slippage and fee models in force in its ``meta`` and the bars' provenance."""
    config = config if config is not None else BacktestConfig()
    run = EventEngine(data, strategies, config).run(progress)
    return build_results(run, meta={**cost_meta(config), **(meta or {})})


def results_json(
    results: Results, metrics: Metrics | None = None, *, indent: bool = False
) -> bytes:
    """The results as JSON with ``metrics`` first (computed when not given). Deterministic."""
    metrics = metrics if metrics is not None else compute_metrics(results)
    return results.to_json(extra={"metrics": metrics.to_dict()}, indent=indent)
