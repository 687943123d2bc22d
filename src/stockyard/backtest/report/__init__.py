"""HTML reports of backtests, Monte Carlo runs and sweeps, read as a trader reads them: a
title block (strategy, symbols, period, parameters, data source), metrics grouped with
labels and units, equity with drawdown, rolling Sharpe and the returns distribution.
Exported, a report is one self-contained file (plotly inlined); served by the hub, it loads
plotly from the hub. More sections (walk-forward, comparison) plug in as ``ReportSection``."""

from stockyard.backtest.report._figures import (
    MAX_POINTS,
    equity_figure,
    montecarlo_fan_figure,
    montecarlo_histograms_figure,
    monthly_returns_figure,
    percent_tick_format,
    rolling_sharpe,
    sweep_heatmap_figure,
    trades_figure,
)
from stockyard.backtest.report._html import (
    ReportSection,
    build_report,
    metrics_table_html,
    report_title,
    run_header_html,
    write_report,
)
from stockyard.backtest.report._labels import GROUPS, format_metric, label_of
from stockyard.backtest.report._ml import ml_section

__all__ = [
    "GROUPS",
    "MAX_POINTS",
    "ReportSection",
    "build_report",
    "equity_figure",
    "format_metric",
    "label_of",
    "metrics_table_html",
    "ml_section",
    "montecarlo_fan_figure",
    "montecarlo_histograms_figure",
    "monthly_returns_figure",
    "percent_tick_format",
    "report_title",
    "rolling_sharpe",
    "run_header_html",
    "sweep_heatmap_figure",
    "trades_figure",
    "write_report",
]
