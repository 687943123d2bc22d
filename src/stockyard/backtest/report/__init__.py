"""Self-contained HTML reports (plotly, JavaScript inlined) of backtests, Monte Carlo runs
and sweeps; more sections (walk-forward, comparison) plug in as ``ReportSection``."""

from stockyard.backtest.report._figures import (
    MAX_POINTS,
    equity_figure,
    montecarlo_fan_figure,
    montecarlo_histograms_figure,
    monthly_returns_figure,
    sweep_heatmap_figure,
    trades_figure,
)
from stockyard.backtest.report._html import (
    ReportSection,
    build_report,
    metrics_table_html,
    write_report,
)
from stockyard.backtest.report._ml import ml_section

__all__ = [
    "MAX_POINTS",
    "ReportSection",
    "build_report",
    "equity_figure",
    "metrics_table_html",
    "ml_section",
    "montecarlo_fan_figure",
    "montecarlo_histograms_figure",
    "monthly_returns_figure",
    "sweep_heatmap_figure",
    "trades_figure",
    "write_report",
]
