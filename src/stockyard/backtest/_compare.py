"""Several strategies or parameter sets on the same bars, side by side.

Each entry runs alone on the event engine with the same data and config; the comparison
holds every run's metrics, the equity curves (for overlays) and the correlation of their
per-bar returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stockyard.backtest._cluster import InlinePool, Pool
from stockyard.backtest._engine import BacktestConfig
from stockyard.backtest._engine_data import BarData
from stockyard.backtest._engine_setup import parse_params
from stockyard.backtest._results import Results
from stockyard.backtest._walkforward import Job, evaluate
from stockyard.strategy import create_strategy

__all__ = ["Comparison", "compare", "parse_entry"]


def parse_entry(text: str) -> tuple[str, dict[str, str]]:
    """``sma_cross`` or ``sma_cross:fast=5,slow=20`` → (strategy, params)."""
    name, _, rest = text.strip().partition(":")
    if not name:
        raise ValueError(f"bad entry {text!r}: use NAME or NAME:k=v,k=v")
    return name, parse_params([p for p in rest.split(",") if p.strip()]) if rest else {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Labels, their results and metrics, and the correlation of per-bar returns."""

    labels: tuple[str, ...]
    results: tuple[Results, ...]
    metrics: tuple[dict[str, float | int | None], ...]
    correlation: np.ndarray

    def to_dict(self) -> dict[str, object]:
        corr = [
            [None if not np.isfinite(v) else round(float(v), 12) for v in row]
            for row in self.correlation
        ]
        return {
            "runs": [
                {"label": label, "metrics": m, "trades": len(r.trades)}
                for label, r, m in zip(self.labels, self.results, self.metrics, strict=True)
            ],
            "correlation": {"labels": list(self.labels), "matrix": corr},
        }


def compare(
    data: BarData,
    entries: Sequence[tuple[str, dict[str, str]]],
    *,
    config: BacktestConfig | None = None,
    pool: Pool | None = None,
) -> Comparison:
    """Backtest every ``(strategy, params)`` on ``data``; see the module docstring."""
    if not entries:
        raise ValueError("nothing to compare")
    config = config or BacktestConfig()
    for name, params in entries:  # fail fast, with the strategy's own message
        create_strategy(name, symbols=data.names, params=params)
    jobs = [
        Job(name, data.names, dict(params), data.start_ns, data.end_ns, config, "sharpe", keep=True)
        for name, params in entries
    ]
    outcomes = (pool or InlinePool()).map(evaluate, data, jobs)
    results = tuple(Results.from_json(blob) for _, _, blob in outcomes)
    labels = tuple(
        name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
        for name, params in entries
    )
    returns = np.array([_returns(r) for r in results])
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.corrcoef(returns) if len(results) > 1 else np.ones((1, 1))
    return Comparison(
        labels=labels,
        results=results,
        metrics=tuple(m for _, m, _ in outcomes),
        correlation=np.atleast_2d(correlation),
    )


def _returns(results: Results) -> np.ndarray:
    equity = results.equity.equity
    previous = np.concatenate([[results.starting_cash], equity[:-1]])
    out: np.ndarray = equity / previous - 1.0
    return out
