"""A report opens in a real headless Chromium, offline, with every chart drawn.

Needs Debian's ``chromium`` package (``/usr/bin/chromium``); Playwright drives it and never
downloads a browser of its own.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Route, sync_playwright

from stockyard.backtest import monte_carlo
from stockyard.backtest.report import build_report, write_report
from stockyard.backtest.vector import run_sma_cross, sma_pairs, sweep_sma
from stockyard.core import Timeframe
from stockyard.data import SyntheticSource

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _report(path: Path) -> Path:
    bars = SyntheticSource(seed=5).get_bars(
        ["AAPL"], Timeframe.HOUR, datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC)
    )["AAPL"]
    results = run_sma_cross(bars, symbol="AAPL", fast=5, slow=20, timeframe="1Hour")
    runs = [monte_carlo(results, method=m, paths=500, seed=1) for m in ("trades", "blocks")]
    fast, slow = sma_pairs(range(5, 30, 5), range(20, 80, 10))
    sweep = sweep_sma(bars, symbol="AAPL", fast=fast, slow=slow)
    document = build_report(title="sma_cross AAPL", results=results, montecarlo=runs, sweep=sweep)
    return write_report(path, document)


def test_report_opens_offline_in_chromium_with_every_chart_drawn(tmp_path: Path) -> None:
    assert shutil.which(CHROMIUM), "install Debian's chromium: apt-get install -y chromium"
    report = _report(tmp_path / "report.html")
    url = report.as_uri()
    blocked: list[str] = []

    def only_the_file(route: Route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", only_the_file)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, wait_until="load")
            page.wait_for_function(
                "() => { const d = document.querySelectorAll('.plotly-graph-div');"
                " return d.length > 0 && [...d].every(g => g.querySelector('svg.main-svg')); }",
                timeout=30_000,
            )
            charts = page.eval_on_selector_all(
                ".plotly-graph-div",
                "ds => ds.map(d => ({id: d.id, svg: d.querySelectorAll('svg.main-svg').length,"
                " marks: d.querySelectorAll('.trace, .hm, image').length}))",
            )
            title = page.title()
        finally:
            browser.close()
    assert title == "sma_cross AAPL"
    assert errors == []
    assert blocked == []  # nothing in the page even tried the network
    # equity, monthly heatmap, trades, 2 × (fan + histograms), sweep heatmap
    assert len(charts) == 8
    assert all(chart["svg"] >= 1 and chart["marks"] >= 1 for chart in charts), charts


def test_report_html_loads_no_script_from_elsewhere(tmp_path: Path) -> None:
    text = _report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script src=" not in text
    assert text.count("<script") >= 8  # plotly inlined once, then one per chart
