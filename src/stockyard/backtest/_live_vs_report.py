"""The live vs backtest report section: live and backtest equity overlaid, the trade-by-trade
table (matched with their slippage, missed, extra) and the P&L gap per symbol."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go  # type: ignore[import-untyped]  # ships no type hints

from stockyard.backtest._live_vs import Execution
from stockyard.backtest._live_vs_run import LiveVsBacktest
from stockyard.backtest._results import iso_from_ns
from stockyard.backtest.report import MAX_POINTS, ReportSection

__all__ = ["live_vs_equity_figure", "live_vs_section"]


def _every(size: int) -> np.ndarray:
    if size <= MAX_POINTS:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, MAX_POINTS).astype(np.int64))


def live_vs_equity_figure(divergence: LiveVsBacktest) -> go.Figure:
    """The live equity snapshots and the backtest's equity curve on one time axis."""
    curve = divergence.results.equity
    keep = _every(len(curve))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=pd.to_datetime(curve.timestamps[keep], utc=True),
            y=curve.equity[keep],
            name="backtest",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=pd.to_datetime(divergence.live_times, utc=True),
            y=divergence.live_equity,
            name=f"live ({divergence.session.run.mode.value})",
            mode="lines+markers",
        )
    )
    fig.update_layout(
        title="Equity: live vs backtest",
        yaxis_title="equity ($)",
        template="plotly_white",
        height=420,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
    )
    return fig


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4f}"
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td class='v'>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table class='metrics'><tr>{head}</tr>{body}</table>"


def _one_sided(title: str, executions: tuple[Execution, ...]) -> str:
    rows: list[list[object]] = [
        [iso_from_ns(e.time), e.symbol, e.side.value, e.qty, e.price] for e in executions
    ]
    return f"<h3>{html.escape(title)} ({len(rows)})</h3>" + _table(
        ["time", "symbol", "side", "qty", "price"], rows
    )


def live_vs_section(divergence: LiveVsBacktest) -> ReportSection:
    """A ``ReportSection``: the equity overlay, then the summary, the P&L per symbol and
    the trade-by-trade tables."""
    summary = divergence.summary()
    parts = [_table(["figure", "value"], [[k, v] for k, v in summary.items()])]
    gap = divergence.pnl_gap
    parts.append("<h3>P&amp;L per symbol</h3>")
    parts.append(
        _table(
            ["symbol", "live", "backtest", "gap"],
            [
                [s, divergence.live_pnl.get(s, 0.0), divergence.backtest_pnl.get(s, 0.0), g]
                for s, g in gap.items()
            ],
        )
    )
    matched: list[list[object]] = [
        [
            iso_from_ns(m.live.time),
            m.symbol,
            m.side.value,
            m.live.qty,
            m.backtest.qty,
            m.live.price,
            m.backtest.price,
            m.slippage_bps,
            m.delay_ns / 1e9,
        ]
        for m in divergence.match.matched
    ]
    parts.append(f"<h3>Matched ({len(matched)})</h3>")
    parts.append(
        _table(
            [
                "live time",
                "symbol",
                "side",
                "live qty",
                "backtest qty",
                "live price",
                "backtest price",
                "slippage (bps)",
                "delay (s)",
            ],
            matched,
        )
    )
    parts.append(_one_sided("Missed: the backtest traded, live did not", divergence.match.missed))
    parts.append(_one_sided("Extra: live traded, the backtest did not", divergence.match.extra))
    session = divergence.session
    note = (
        f"run {session.run.id} ({session.run.mode.value}), {session.start:%Y-%m-%d %H:%M} to "
        f"{session.end:%Y-%m-%d %H:%M} UTC; executions matched per symbol and side within "
        f"{divergence.tolerance_ns / 1e9:g} s; slippage is against the trader"
    )
    return ReportSection(
        title="Live vs backtest",
        figures=[live_vs_equity_figure(divergence)],
        html="".join(parts),
        note=note,
    )
