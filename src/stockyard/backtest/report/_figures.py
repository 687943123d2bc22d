"""The report's charts (plotly figures), one function per chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go  # type: ignore[import-untyped]  # ships no type hints
from plotly.subplots import make_subplots  # type: ignore[import-untyped]  # no type hints

from stockyard.backtest._results import Results
from stockyard.backtest.metrics import drawdown_series, period_ends, period_returns
from stockyard.backtest.montecarlo import BAND_PERCENTILES, MonteCarloResult, histogram
from stockyard.core import PositionSide

if TYPE_CHECKING:  # the vectorised path loads numba (~0.3 s); a report only reads its result
    from stockyard.backtest.vector import SweepResult

__all__ = [
    "MAX_POINTS",
    "equity_figure",
    "montecarlo_fan_figure",
    "montecarlo_histograms_figure",
    "monthly_returns_figure",
    "percent_tick_format",
    "rolling_sharpe",
    "sweep_heatmap_figure",
    "trades_figure",
]

MAX_POINTS = 3000  # a line is drawn from at most this many points (min and max per bucket)
_ADVERBS = {"day": "daily", "week": "weekly", "month": "monthly"}
_LAYOUT = {"template": "plotly_white", "height": 420, "margin": {"l": 60, "r": 20, "t": 50}}


def _times(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("datetime64[ns]"), tz="UTC")


def _ms(ns: np.ndarray | pd.DatetimeIndex) -> np.ndarray:
    """Times for a plotly date axis: UTC milliseconds as numbers, which plotly sends as one
    binary array (8 bytes a point) instead of a 25-character string per point."""
    if isinstance(ns, pd.DatetimeIndex):
        ns = ns.asi8
    ms: np.ndarray = np.asarray(ns, dtype=np.int64) // 1_000_000
    return ms.astype(np.float64)


def thin(values: np.ndarray, limit: int = MAX_POINTS) -> np.ndarray:
    """Row indexes that keep a long line's shape: each bucket's first, lowest and highest."""
    n = values.size
    if n <= limit:
        return np.arange(n)
    buckets = limit // 3
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep = [edges[:-1]]
    starts = edges[:-1]
    keep.append(starts + _arg_reduce(values, edges, np.argmin))
    keep.append(starts + _arg_reduce(values, edges, np.argmax))
    keep.append(np.array([n - 1]))
    return np.unique(np.concatenate(keep))


def _arg_reduce(
    values: np.ndarray, edges: np.ndarray, how: Callable[[np.ndarray], np.intp]
) -> np.ndarray:
    bounds = zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)
    return np.array([how(values[a:b]) for a, b in bounds])


def percent_tick_format(values: np.ndarray | Sequence[float]) -> str:
    """A d3 percent format with enough decimals to tell the ticks of ``values`` apart
    (a drawdown of a few tenths of a percent reads "-0.3%", not "0%")."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    span = max(span, float(np.abs(finite).max()) if finite.size else 0.0)
    if span >= 0.2:
        return ".0%"
    if span >= 0.02:
        return ".1%"
    if span >= 0.002 or span == 0.0:
        return ".2%"
    return ".3%" if span >= 0.0002 else ".4%"


def rolling_sharpe(results: Results) -> tuple[pd.DatetimeIndex, np.ndarray, int]:
    """The annualised Sharpe ratio over a rolling window of periods (days for intraday and
    daily bars): the period ends' times, the ratios (NaN until the window fills) and the
    window, a quarter of a year or a third of the run, whichever is shorter (at least 5)."""
    curve = results.equity
    periods = period_ends(curve.timestamps)
    returns = period_returns(curve.equity, periods.ends, start_value=results.starting_cash)
    window = max(5, min(periods.per_year // 4, returns.size // 3))
    series = pd.Series(returns)
    rolling = series.rolling(window)
    std = rolling.std(ddof=1).to_numpy(dtype=np.float64)
    mean = rolling.mean().to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(std > 0, mean / std * np.sqrt(periods.per_year), np.nan)
    return _times(curve.timestamps[periods.ends]), ratio, window


def equity_figure(results: Results) -> go.Figure:
    """Equity (and the benchmark bought and held with the same cash) over drawdown and the
    rolling Sharpe ratio, with the distribution of period returns beside them."""
    curve = results.equity
    fig = make_subplots(
        rows=3,
        cols=2,
        shared_xaxes=True,
        row_heights=[0.55, 0.2, 0.25],
        column_widths=[0.74, 0.26],
        horizontal_spacing=0.08,
        vertical_spacing=0.06,
        specs=[[{}, {"rowspan": 3}], [{}, None], [{}, None]],
        subplot_titles=("", "Returns distribution", "", ""),
    )
    keep = thin(curve.equity)
    times = _ms(curve.timestamps[keep])
    fig.add_trace(go.Scatter(x=times, y=curve.equity[keep], name="equity"), row=1, col=1)
    bench = results.benchmark
    if bench is not None:
        at = np.searchsorted(bench.timestamps, curve.timestamps[keep], side="right") - 1
        ok = at >= 0
        held = results.starting_cash * bench.close[at[ok]] / bench.open[0]
        fig.add_trace(
            go.Scatter(x=times[ok], y=held, name=f"buy and hold {bench.symbol}", opacity=0.6),
            row=1,
            col=1,
        )
    depth = drawdown_series(curve.equity, start_value=results.starting_cash)
    fig.add_trace(
        go.Scatter(x=times, y=depth[keep], name="drawdown", fill="tozeroy", line={"width": 1}),
        row=2,
        col=1,
    )
    sharpe_at, sharpe, window = rolling_sharpe(results)
    fig.add_trace(
        go.Scatter(x=_ms(sharpe_at), y=sharpe, name=f"rolling Sharpe ({window} periods)"),
        row=3,
        col=1,
    )
    periods = period_ends(curve.timestamps)
    returns = period_returns(curve.equity, periods.ends, start_value=results.starting_cash)
    adverb = _ADVERBS.get(periods.kind, periods.kind)
    fig.add_trace(
        go.Histogram(x=returns, name=f"{adverb} returns", nbinsx=40, showlegend=False),
        row=1,
        col=2,
    )
    for row in (1, 2, 3):
        fig.update_xaxes(type="date", row=row, col=1)
    fig.update_yaxes(title_text="equity ($)", tickformat="$,.0f", row=1, col=1)
    fig.update_yaxes(title_text="drawdown", tickformat=percent_tick_format(depth), row=2, col=1)
    fig.update_yaxes(title_text="Sharpe (ann.)", tickformat=".1f", row=3, col=1)
    fig.update_xaxes(
        title_text=f"{adverb} return", tickformat=percent_tick_format(returns), row=1, col=2
    )
    fig.update_yaxes(title_text=f"{periods.kind}s", row=1, col=2)
    layout = {**_LAYOUT, "height": 620}
    fig.update_layout(title="Equity, drawdown and rolling Sharpe", **layout)
    return fig


def monthly_returns_figure(results: Results) -> go.Figure:
    """Each calendar month's return (UTC months), years down and months across."""
    curve = results.equity
    index = _times(curve.timestamps)
    series = pd.Series(curve.equity, index=index)
    month_end = series.groupby([index.year, index.month]).last()
    previous = month_end.shift(1)
    previous.iloc[0] = results.starting_cash
    returns = (month_end / previous - 1.0).unstack()
    returns = returns.reindex(columns=range(1, 13))
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    values = returns.to_numpy(dtype=np.float64)
    text = [["" if np.isnan(v) else f"{v:.2%}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=names,
            y=[str(y) for y in returns.index],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0.0,
            colorbar={"tickformat": percent_tick_format(values), "title": "return"},
        )
    )
    fig.update_layout(title="Monthly returns", **_LAYOUT)
    return fig


def trades_figure(results: Results, symbol: str) -> go.Figure:
    """The close of ``symbol`` with each trade's entry and exit marked."""
    prices = results.price(symbol)
    keep = thin(prices.close)
    fig = go.Figure(go.Scatter(x=_ms(prices.timestamps[keep]), y=prices.close[keep], name=symbol))
    trades = [t for t in results.trades if t.symbol == symbol]
    legs = (
        ("entry", [t.entry_time for t in trades], [t.entry_price for t in trades], "triangle-up"),
        ("exit", [t.exit_time for t in trades], [t.exit_price for t in trades], "triangle-down"),
    )
    for label, times, prices_at, marker in legs:
        # green where the leg adds to the position's value (a long's entry, a short's exit)
        colours = [
            "#1a9850" if (t.side is PositionSide.LONG) == (label == "entry") else "#d73027"
            for t in trades
        ]
        fig.add_trace(
            go.Scatter(
                x=_ms(np.array(times, dtype=np.int64)),
                y=prices_at,
                mode="markers",
                name=label,
                marker={"symbol": marker, "size": 9, "color": colours},
            )
        )
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="price ($)")
    fig.update_layout(title=f"Trades on {symbol}", **_LAYOUT)
    return fig


def montecarlo_fan_figure(mc: MonteCarloResult) -> go.Figure:
    """Equity bands (5–95, 25–75 and the median) over the simulated steps."""
    steps = mc.band_steps
    fig = go.Figure()
    pairs = ((0, 4, "5–95 %", 0.15), (1, 3, "25–75 %", 0.3))
    for low, high, label, alpha in pairs:
        fig.add_trace(go.Scatter(x=steps, y=mc.bands[high], line={"width": 0}, showlegend=False))
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=mc.bands[low],
                fill="tonexty",
                fillcolor=f"rgba(31,119,180,{alpha})",
                line={"width": 0},
                name=label,
            )
        )
    fig.add_trace(go.Scatter(x=steps, y=mc.bands[2], name="median", line={"color": "#1f77b4"}))
    unit = "trade" if mc.method in ("trades", "permutation", "delay") else "day"
    fig.update_layout(
        title=f"Monte Carlo ({mc.method}, {mc.paths:,} paths): equity bands",
        xaxis_title=unit,
        yaxis_title="equity ($)",
        **_LAYOUT,
    )
    return fig


def montecarlo_histograms_figure(mc: MonteCarloResult) -> go.Figure:
    """Histograms of final equity, CAGR and maximum drawdown over the paths."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("final equity", "CAGR", "max drawdown"))
    for col, name in enumerate(("final_equity", "cagr", "max_drawdown"), start=1):
        counts, edges = histogram(getattr(mc, name))
        fig.add_trace(
            go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, name=name, showlegend=False),
            row=1,
            col=col,
        )
    fig.update_layout(
        title=f"Monte Carlo distributions (p5–p95 bands: {BAND_PERCENTILES})", **_LAYOUT
    )
    return fig


def sweep_heatmap_figure(sweep: SweepResult, metric: str = "sharpe") -> go.Figure:
    """``metric`` for each (fast, slow) pair: fast down, slow across."""
    frame = pd.DataFrame(
        {"fast": sweep.fast, "slow": sweep.slow, metric: np.asarray(getattr(sweep, metric))}
    )
    table = frame.pivot(index="fast", columns="slow", values=metric)
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy(dtype=np.float64),
            x=[str(c) for c in table.columns],
            y=[str(i) for i in table.index],
            colorscale="Viridis",
            colorbar={"title": metric},
        )
    )
    fig.update_layout(
        title=f"Sweep of sma_cross on {sweep.symbol}: {metric}",
        xaxis_title="slow",
        yaxis_title="fast",
        **_LAYOUT,
    )
    return fig
