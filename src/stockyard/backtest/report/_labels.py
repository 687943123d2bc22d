"""How a trader reads the metrics: human labels, units, and groups (returns, risk, trades).

Bookkeeping fields (``periods``, ``periods_per_year``, ``years``) are left out of the
tables; the period they describe is in the report's title block instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["GROUPS", "HIDDEN", "MetricLabel", "format_metric", "label_of"]


@dataclass(frozen=True, slots=True)
class MetricLabel:
    """A metric's label and unit: ``percent``, ``money``, ``ratio``, ``count`` or ``days``."""

    label: str
    unit: str


_LABELS: Mapping[str, MetricLabel] = {
    "starting_cash": MetricLabel("Starting cash", "money"),
    "final_equity": MetricLabel("Final equity", "money"),
    "total_return": MetricLabel("Total return", "percent"),
    "cagr": MetricLabel("Annual return (CAGR)", "percent"),
    "benchmark_return": MetricLabel("Buy and hold return", "percent"),
    "alpha": MetricLabel("Alpha (annual)", "percent"),
    "beta": MetricLabel("Beta", "ratio"),
    "annual_volatility": MetricLabel("Volatility (annual)", "percent"),
    "sharpe": MetricLabel("Sharpe ratio", "ratio"),
    "sortino": MetricLabel("Sortino ratio", "ratio"),
    "calmar": MetricLabel("Calmar ratio", "ratio"),
    "max_drawdown": MetricLabel("Maximum drawdown", "percent"),
    "max_drawdown_days": MetricLabel("Longest drawdown", "days"),
    "exposure": MetricLabel("Time in the market", "percent"),
    "num_trades": MetricLabel("Trades", "count"),
    "num_orders": MetricLabel("Orders", "count"),
    "win_rate": MetricLabel("Win rate", "percent"),
    "profit_factor": MetricLabel("Profit factor", "ratio"),
    "expectancy": MetricLabel("Expectancy per trade", "money"),
    "avg_trade": MetricLabel("Average trade", "percent"),
    "avg_win": MetricLabel("Average win", "money"),
    "avg_loss": MetricLabel("Average loss", "money"),
    "best_trade": MetricLabel("Best trade", "percent"),
    "worst_trade": MetricLabel("Worst trade", "percent"),
    "turnover": MetricLabel("Turnover", "ratio"),
    "total_fees": MetricLabel("Fees paid", "money"),
    "prob_loss": MetricLabel("Probability of a loss", "percent"),
    "prob_ruin": MetricLabel("Probability of ruin", "percent"),
    "paths": MetricLabel("Simulated paths", "count"),
}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Returns",
        (
            "starting_cash",
            "final_equity",
            "total_return",
            "cagr",
            "benchmark_return",
            "alpha",
            "beta",
        ),
    ),
    (
        "Risk",
        (
            "annual_volatility",
            "sharpe",
            "sortino",
            "calmar",
            "max_drawdown",
            "max_drawdown_days",
            "exposure",
        ),
    ),
    (
        "Trades",
        (
            "num_trades",
            "num_orders",
            "win_rate",
            "profit_factor",
            "expectancy",
            "avg_trade",
            "avg_win",
            "avg_loss",
            "best_trade",
            "worst_trade",
            "turnover",
            "total_fees",
        ),
    ),
)
HIDDEN = frozenset({"periods", "periods_per_year", "years"})


def label_of(name: str) -> MetricLabel:
    """The label and unit of ``name``; an unknown name is shown as itself, as a ratio."""
    return _LABELS.get(name, MetricLabel(name.replace("_", " ").capitalize(), "ratio"))


def format_metric(name: str, value: float | int | None) -> str:
    """``value`` in the unit of ``name``: "12.34 %", "$1,234.56", "1.234", "12 days"; a
    metric undefined for the run (``None``) reads "–"."""
    if value is None:
        return "–"
    unit = label_of(name).unit
    if unit == "count" or (isinstance(value, int) and not isinstance(value, bool)):
        return f"{int(value):,}"
    if unit == "percent":
        return f"{value * 100:,.2f} %"
    if unit == "money":
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.2f}"
    if unit == "days":
        return f"{value:,.1f} days"
    return f"{value:,.3f}"
