"""One self-contained HTML file per run (plotly's JavaScript inlined, no network needed),
or a page that loads plotly from the hub that serves it."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

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
from stockyard.backtest.report._labels import GROUPS, HIDDEN, format_metric, label_of

if TYPE_CHECKING:  # the vectorised path loads numba (~0.3 s); a report only reads its result
    from stockyard.backtest.vector import SweepResult

__all__ = [
    "ReportSection",
    "build_report",
    "metrics_table_html",
    "report_title",
    "run_header_html",
    "write_report",
]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222;
  padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.3rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
  font-size: 0.9rem; margin: 0.5rem 0 1rem; }
dl.run dt { color: #555; } dl.run dd { margin: 0; }
.groups { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
table.metrics { border-collapse: collapse; font-size: 0.9rem; }
table.metrics caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
table.metrics td, table.metrics th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #ddd; }
table.metrics td.v { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.85rem; }
.synthetic { background: #fff4e5; border-left: 4px solid #e8a33d; padding: 0.4rem 0.8rem;
  font-size: 0.9rem; }
"""


@dataclass(frozen=True, slots=True)
class ReportSection:
    """A titled part of a report: figures, then optional HTML (escaped by its maker).
    Walk-forward windows and comparison overlays come in as sections like any other."""

    title: str
    figures: Sequence[go.Figure] = field(default_factory=tuple)
    html: str = ""
    note: str = ""


def _rows(values: Mapping[str, float | int | None], names: Sequence[str]) -> str:
    return "".join(
        f"<tr><td>{html.escape(label_of(name).label)}</td>"
        f"<td class='v'>{html.escape(format_metric(name, values[name]))}</td></tr>"
        for name in names
        if name in values
    )


def metrics_table_html(metrics: Metrics | Mapping[str, float | int | None]) -> str:
    """The metrics with human labels and units, grouped (returns, risk, trades) when they
    are a backtest's; bookkeeping fields (periods, years) left out; ``None`` reads –."""
    values = metrics.to_dict() if isinstance(metrics, Metrics) else dict(metrics)
    grouped = {name for _title, names in GROUPS for name in names}
    tables = [
        f"<table class='metrics'><caption>{title}</caption>{_rows(values, names)}</table>"
        for title, names in GROUPS
        if any(name in values for name in names)
    ]
    rest = [n for n in values if n not in grouped and n not in HIDDEN]
    if rest:
        caption = "<caption>Other</caption>" if tables else ""
        tables.append(f"<table class='metrics'>{caption}{_rows(values, rest)}</table>")
    return f"<div class='groups'>{''.join(tables)}</div>"


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def report_title(results: Results) -> str:
    """ "sma_cross on AAPL, MSFT, 2025-04-01 → 2025-06-30 (synthetic data)": strategy,
    symbols, period and, when the bars were made up, that they were."""
    stamps = results.equity.timestamps
    symbols = ", ".join(p.symbol for p in results.prices) or "no symbols"
    day = "%Y-%m-%d"
    first = datetime.fromtimestamp(int(stamps[0]) / 1e9, tz=UTC).strftime(day)
    last = datetime.fromtimestamp(int(stamps[-1]) / 1e9, tz=UTC).strftime(day)
    kind = " (synthetic data)" if results.synthetic else ""
    return f"{results.strategy} on {symbols}, {first} → {last}{kind}"


def run_header_html(results: Results, *, source: str | None = None) -> str:
    """What the run was: strategy, symbols, period, bar size, parameters, where the data
    came from and how it is adjusted, slippage and fees, engine and seed, as a definition
    list; a run on synthetic bars says so above it."""
    stamps = results.equity.timestamps
    symbols = ", ".join(p.symbol for p in results.prices) or "–"
    params = ", ".join(f"{k}={v}" for k, v in results.params.items()) or "defaults"
    origin = source or (results.data_source if results.provenance else None)
    origin = origin or _text(results.meta.get("source") or results.meta.get("data_source"))
    rows: list[tuple[str, str]] = [
        ("Strategy", results.strategy),
        ("Symbols", symbols),
        ("Period", f"{_when(int(stamps[0]))} → {_when(int(stamps[-1]))}"),
        ("Bars", f"{results.timeframe}, {len(stamps):,} bars"),
        ("Parameters", params),
        ("Data", str(origin) if origin is not None else "not recorded"),
    ]
    meta = results.meta
    if "slippage" in meta:
        rows.append(("Slippage", str(meta["slippage"])))
    if "stock_fees" in meta:
        rows.append(("Fees", f"stocks: {meta['stock_fees']}; crypto: {meta.get('crypto_fees')}"))
    engine = results.meta.get("engine")
    if engine is not None:
        seed = results.meta.get("seed")
        rows.append(("Engine", f"{engine}" + (f", seed {seed}" if seed is not None else "")))
    cells = "".join(
        f"<dt>{html.escape(k)}</dt><dd data-field='{html.escape(k.lower())}'>{html.escape(v)}</dd>"
        for k, v in rows
    )
    warning = (
        "<p class='synthetic' data-field='synthetic'>Synthetic data: these bars were made by a "
        "random model, not traded on a market; the figures say nothing about a real "
        "strategy's edge.</p>"
        if results.synthetic
        else ""
    )
    return f"{warning}<dl class='run'>{cells}</dl>"


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
        sections.append(ReportSection("Equity, drawdown and returns", [equity_figure(results)]))
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
    source: str | None = None,
    plotly_src: str | None = None,
) -> str:
    """The report as one HTML document: metrics table, equity and drawdown, monthly
    returns, trades on price, Monte Carlo fan charts and histograms, the sweep heatmap,
    then ``extra_sections`` (walk-forward windows, comparison overlays, …).

    With ``results``, the title block names the strategy, symbols, period, parameters and
    where the data came from (``source``, else the run's ``meta["source"]``). Plotly's
    JavaScript is inlined once, so the file needs no network; with ``plotly_src`` (a hub
    serving the report) the page loads it from that URL instead."""
    sections = [*_sections(results, metrics, montecarlo, sweep, sweep_metric), *extra_sections]
    parts: list[str] = []
    script_included = plotly_src is not None
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
    header = run_header_html(results, source=source) if results is not None else ""
    script = (
        f"<script src='{html.escape(plotly_src, quote=True)}' charset='utf-8'></script>"
        if plotly_src is not None
        else ""
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{script}</head>"
        f"<body><h1>{html.escape(title)}</h1>\n{header}\n{body}\n</body></html>\n"
    )


def write_report(path: Path | str, document: str) -> Path:
    """Write ``document`` to ``path`` (UTF-8), creating its directory; the path back."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document, encoding="utf-8")
    return target
