"""Drawdown of an equity curve: depth and the longest time under water."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Drawdown", "drawdown", "drawdown_series"]

_DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Drawdown:
    """``max_drawdown``: the deepest fall from a running peak, as a fraction (<= 0).
    ``max_duration_days``: the longest time (calendar days) from a peak until equity is back
    at it, or until the last bar if it never is."""

    max_drawdown: float
    max_duration_days: float


def drawdown_series(equity: np.ndarray, *, start_value: float) -> np.ndarray:
    """``equity / running peak - 1`` at each bar; the starting value is the first peak."""
    values = np.asarray(equity, dtype=np.float64)
    peaks = np.maximum.accumulate(np.concatenate(([start_value], values)))[1:]
    series: np.ndarray = values / peaks - 1.0
    return series


def drawdown(timestamps: np.ndarray, equity: np.ndarray, *, start_value: float) -> Drawdown:
    """Depth and longest duration of the drawdowns of ``equity`` (see ``Drawdown``)."""
    ts = np.asarray(timestamps, dtype=np.int64)
    series = drawdown_series(equity, start_value=start_value)
    depth = float(series.min()) if series.size else 0.0
    under = series < 0.0
    if not bool(under.any()):
        return Drawdown(min(depth, 0.0), 0.0)
    # A spell under water starts at the peak bar before it (the first bar when the peak is
    # the starting cash) and ends at the bar that regains the peak, or at the last bar.
    edges = np.diff(np.concatenate(([False], under, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    begin = ts[np.maximum(starts - 1, 0)]
    end = ts[np.minimum(stops, ts.size - 1)]
    longest = int((end - begin).max())
    return Drawdown(min(depth, 0.0), longest / _DAY_NS)
