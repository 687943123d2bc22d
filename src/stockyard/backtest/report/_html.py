"""One self-contained HTML file per run: plotly's JavaScript inlined, no network needed."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go  # type: ignore[import-untyped]  # ships no type hints
import plotly.io as pio  # type: ignore[import-untyped]  # ships no type hints

from stockyard.backtest._results import Results
from stockyard.backtest.metrics import Metrics, compute_metrics
from stockyard.backtest.montecarlo import MonteCarloResult
from stockyard.backtest.report._figures import (
    equity_figure,
    montecarlo_fan_figure,
    montecarlo_histograms_figure,
    monthly_returns_figure,
    sweep_heatmap_figure,
    trades_figure,
)
from stockyard.backtest.vector import SweepResult

__all__ = ["ReportSection", "build_report", "metrics_table_html", "write_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table.metrics { border-collapse: collapse; font-size: 0.9rem; }
table.metrics td, table.metrics th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #ddd; }
table.metrics td.v { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.85rem; }
"""
_PERCENT = {
    "total_return",
    "cagr",
    "annual_volatility",
    "max_drawdown",
    "win_rate",
    "avg_trade",
    "best_trade",
    "worst_trade",
    "exposure",
    "benchmark_return",
    "alpha",
}


@dataclass(frozen=True, slots=True)
class ReportSection:
    """A titled part of a report: figures, then optional HTML (escaped by its maker).
    Walk-forward windows and comparison overlays come in as sections like any other."""

    title: str
    figures: Sequence[go.Figure] = field(default_factory=tuple)
    html: str = ""
    note: str = ""


def _format(name: str, value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if name in _PERCENT:
        return f"{value:.2%}"
    if name in {"starting_cash", "final_equity", "expectancy", "avg_win", "avg_loss"}:
        return f"${value:,.2f}"
    return f"{value:,.3f}"


def metrics_table_html(metrics: Metrics | Mapping[str, float | int | None]) -> str:
    """The metrics as an HTML table (percentages and dollars formatted, ``None`` as –)."""
    values = metrics.to_dict() if isinstance(metrics, Metrics) else dict(metrics)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class='v'>{html.escape(_format(name, v))}</td></tr>"
        for name, v in values.items()
    )
    return f"<table class='metrics'>{rows}</table>"


def _sections(
    results: Results | None,
    metrics: Metrics | None,
    montecarlo: Sequence[MonteCarloResult],
    sweep: SweepResult | None,
    sweep_metric: str,
) -> list[ReportSection]:
    sections: list[ReportSection] = []
    if results is not None:
        metrics = metrics or compute_metrics(results)
        sections.append(ReportSection("Metrics", html=metrics_table_html(metrics)))
        sections.append(ReportSection("Equity and drawdown", [equity_figure(results)]))
        sections.append(ReportSection("Monthly returns", [monthly_returns_figure(results)]))
        for series in results.prices:
            sections.append(
                ReportSection(f"Trades on {series.symbol}", [trades_figure(results, series.symbol)])
            )
    for mc in montecarlo:
        sections.append(
            ReportSection(
                f"Monte Carlo: {mc.method}",
                [montecarlo_fan_figure(mc), montecarlo_histograms_figure(mc)],
                html=metrics_table_html(
                    {"prob_loss": mc.prob_loss, "prob_ruin": mc.prob_ruin, "paths": mc.paths}
                ),
                note=f"seed {mc.seed}; ruin = touching {mc.ruin_level:.0%} of the start",
            )
        )
    if sweep is not None:
        sections.append(
            ReportSection(
                f"Parameter sweep ({len(sweep):,} pairs, {sweep.bars:,} bars)",
                [sweep_heatmap_figure(sweep, sweep_metric)],
            )
        )
    return sections


def build_report(
    *,
    title: str,
    results: Results | None = None,
    metrics: Metrics | None = None,
    montecarlo: Sequence[MonteCarloResult] = (),
    sweep: SweepResult | None = None,
    sweep_metric: str = "sharpe",
    extra_sections: Sequence[ReportSection] = (),
) -> str:
    """The report as one HTML document: metrics table, equity and drawdown, monthly
    returns, trades on price, Monte Carlo fan charts and histograms, the sweep heatmap,
    then ``extra_sections`` (walk-forward windows, comparison overlays, …). Plotly's
    JavaScript is inlined once; the file needs no network."""
    sections = [*_sections(results, metrics, montecarlo, sweep, sweep_metric), *extra_sections]
    parts: list[str] = []
    script_included = False
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p class='note'>{html.escape(section.note)}</p>")
        for figure in section.figures:
            parts.append(
                pio.to_html(
                    figure,
                    full_html=False,
                    include_plotlyjs=not script_included,
                    config={"displaylogo": False, "responsive": True},
                    div_id=f"chart-{sum(p.count('plotly-graph-div') for p in parts)}",
                )
            )
            script_included = True
        parts.append(section.html)
        parts.append("</section>")
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def write_report(path: Path | str, document: str) -> Path:
    """Write ``document`` to ``path`` (UTF-8), creating its directory; the path back."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document, encoding="utf-8")
    return target
