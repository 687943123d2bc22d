from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import plotly.graph_objects as go  # type: ignore[import-untyped]  # ships no type hints
import pytest

from stockyard.backtest import Results, backtest, compute_metrics, load_bars, monte_carlo
from stockyard.backtest.report import (
    ReportSection,
    build_report,
    equity_figure,
    format_metric,
    metrics_table_html,
    monthly_returns_figure,
    percent_tick_format,
    report_title,
    rolling_sharpe,
    run_header_html,
    write_report,
)
from stockyard.strategy import create_strategy


def test_a_report_holds_every_chart_and_inlines_plotly_once(
    daily_run: Results, tmp_path: Path
) -> None:
    mc = monte_carlo(daily_run, method="blocks", paths=200, seed=1)
    extra = ReportSection("Walk-forward windows", [go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))])
    document = build_report(
        title="MSFT <daily>", results=daily_run, montecarlo=[mc], extra_sections=[extra]
    )
    assert document.count('class="plotly-graph-div"') == 6
    assert document.count("Plotly.newPlot") == 6
    assert "MSFT &lt;daily&gt;" in document  # titles are escaped
    assert "<h2>Walk-forward windows</h2>" in document
    assert "<script src=" not in document
    path = write_report(tmp_path / "deep" / "r.html", document)
    assert path.read_text(encoding="utf-8") == document


def test_the_metrics_table_formats_percentages_money_and_missing_values(daily_run: Results) -> None:
    table = metrics_table_html(compute_metrics(daily_run))
    assert "<td>Total return</td>" in table
    assert " %" in table
    assert "$" in table
    assert "–" in metrics_table_html({"sharpe": None})


def test_the_metrics_are_grouped_with_human_labels_and_no_bookkeeping_fields(
    daily_run: Results,
) -> None:
    table = metrics_table_html(compute_metrics(daily_run))
    captions = [part.split("</caption>")[0] for part in table.split("<caption>")[1:]]
    assert captions == ["Returns", "Risk", "Trades"]
    for name in ("periods", "periods_per_year", "years", "total_return", "max_drawdown"):
        assert f"<td>{name}</td>" not in table
    assert "<td>Maximum drawdown</td>" in table
    assert " days</td>" in table  # the longest drawdown has its unit


def test_metric_values_carry_their_units() -> None:
    assert format_metric("total_return", 0.1234) == "12.34 %"
    assert format_metric("final_equity", -1234.5) == "-$1,234.50"
    assert format_metric("num_trades", 1200) == "1,200"
    assert format_metric("max_drawdown_days", 12.0) == "12.0 days"
    assert format_metric("sharpe", 1.23456) == "1.235"
    assert format_metric("sharpe", None) == "–"


def test_the_title_block_names_strategy_symbols_period_parameters_and_source(
    daily_run: Results,
) -> None:
    document = build_report(title="run", results=daily_run, source="parquet: ./data")
    header = run_header_html(daily_run, source="parquet: ./data")
    assert header in document
    assert f"<dd data-field='strategy'>{daily_run.strategy}</dd>" in header
    for symbol in (p.symbol for p in daily_run.prices):
        assert symbol in header
    assert " UTC → " in header
    assert "parquet: ./data" in header
    for name, value in daily_run.params.items():
        assert f"{name}={value}" in header


def test_small_drawdowns_get_ticks_with_enough_decimals() -> None:
    assert percent_tick_format(np.array([0.0, -0.004])) == ".2%"
    assert percent_tick_format(np.array([0.0, -0.05])) == ".1%"
    assert percent_tick_format(np.array([0.0, -0.35])) == ".0%"
    assert percent_tick_format(np.array([np.nan])) == ".2%"


def test_the_equity_chart_holds_rolling_sharpe_and_the_returns_distribution(
    daily_run: Results,
) -> None:
    names = [trace.name or "" for trace in equity_figure(daily_run).data]
    assert any(name.startswith("rolling Sharpe") for name in names)
    assert any(name.endswith("returns") for name in names)
    at, ratio, window = rolling_sharpe(daily_run)
    assert len(at) == len(ratio)
    assert np.isnan(ratio[: window - 1]).all()
    assert np.isfinite(ratio[window:]).any()


def test_seen_from_the_hub_a_report_loads_plotly_from_the_hub(daily_run: Results) -> None:
    document = build_report(title="r", results=daily_run, plotly_src="/static/plotly.min.js")
    assert document.count("<script src='/static/plotly.min.js'") == 1
    assert "Plotly.newPlot" in document
    exported = build_report(title="r", results=daily_run)
    assert len(document) < len(exported) - 3_000_000  # plotly itself is not in the page


def test_a_long_curve_is_drawn_from_a_bounded_number_of_points(minute_run: Results) -> None:
    document = build_report(title="minutes", results=minute_run)
    assert len(minute_run.equity) > 8000
    assert len(document) < 9_000_000


@pytest.fixture(scope="module")
def quarter_run() -> Results:
    """Three months of one-minute sample bars (the sample set's period) on the event engine,
    as ``stockyard backtest --source synthetic`` runs them."""
    bars = load_bars(data=None, symbols=["AAPL"], timeframe=None, start=datetime(2025, 4, 1,
                     tzinfo=UTC), end=datetime(2025, 7, 1, tzinfo=UTC), store_root=Path("."),
                     source="synthetic", seed=42)  # fmt: skip
    bot = create_strategy("sma_cross", symbols=bars.names, params={"fast": "10", "slow": "30"})
    return backtest(bars, [bot])


def test_a_quarter_seen_from_the_hub_is_small_and_loads_plotly_from_the_hub(
    quarter_run: Results,
) -> None:
    hub = build_report(title=report_title(quarter_run), results=quarter_run,
                       plotly_src="/static/vendor/plotly.min.js")  # fmt: skip
    assert len(quarter_run.equity) > 24_000
    assert hub.count("<script src='/static/vendor/plotly.min.js'") == 1
    assert len(hub.encode()) < 500_000
    assert "Plotly.newPlot" in hub


def test_an_exported_report_is_one_self_contained_file(quarter_run: Results) -> None:
    exported = build_report(title=report_title(quarter_run), results=quarter_run)
    assert "<script src=" not in exported
    assert exported.count("plotly.js v") == 1  # plotly's own banner: inlined once
    assert "http://" not in exported.split("<body>", 1)[1].split("<script", 1)[0]


def test_a_report_title_names_strategy_symbols_period_parameters_and_synthetic_data(
    quarter_run: Results,
) -> None:
    title = report_title(quarter_run)
    assert title == "sma_cross on AAPL, 2025-04-01 → 2025-06-30 (synthetic data)"
    document = build_report(title=title, results=quarter_run)
    assert f"<title>{title}</title>" in document
    assert "<dd data-field='parameters'>fast=10, slow=30" in document
    assert "<dd data-field='data'>synthetic (seed 42)</dd>" in document
    assert "data-field='synthetic'" in document
    assert "<dd data-field='slippage'>none (fills at the bar&#x27;s price)</dd>" in document
    for hidden in ("periods", "years", "periods_per_year"):
        assert f"<td>{hidden}</td>" not in document
        assert f">{hidden}<" not in document


def test_the_axes_of_a_quiet_run_read_with_decimals(quarter_run: Results) -> None:
    figure = equity_figure(quarter_run)
    depth = figure.layout.yaxis3.tickformat  # row 2 (the histogram spans column 2)
    assert depth in (".2%", ".3%")  # a drawdown of about a percent is not "0%, 0%, 0%"
    assert figure.layout.xaxis2.tickformat in (".2%", ".3%", ".4%")  # daily returns
    assert figure.layout.xaxis.type == "date"
    assert percent_tick_format(np.array([0.0, -0.0009])) == ".3%"
    assert percent_tick_format(np.array([0.0, 0.00005])) == ".4%"
    heat = monthly_returns_figure(quarter_run).data[0]
    assert heat.colorbar.tickformat in (".2%", ".3%")
