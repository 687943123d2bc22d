from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go  # type: ignore[import-untyped]  # ships no type hints

from stockyard.backtest import Results, compute_metrics, monte_carlo
from stockyard.backtest.report import (
    ReportSection,
    build_report,
    metrics_table_html,
    write_report,
)


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
    assert "<td>total_return</td>" in table
    assert "%" in table
    assert "$" in table
    assert "–" in metrics_table_html({"sharpe": None})


def test_a_long_curve_is_drawn_from_a_bounded_number_of_points(minute_run: Results) -> None:
    document = build_report(title="minutes", results=minute_run)
    assert len(minute_run.equity) > 8000
    assert len(document) < 9_000_000
