"""Labels (targets, named ``&...``) and the purged, embargoed split of time-ordered rows.

A label of row ``i`` looks ``horizon`` bars ahead, so it is known only once bar
``i + horizon`` has arrived; training uses only rows whose label is known. Between the
training rows and the held-out (test) tail, :func:`purged_split` drops the ``horizon`` rows
whose labels would reach into the test window (purging) and ``embargo`` rows more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "LABEL_KINDS",
    "Split",
    "direction",
    "forward_return",
    "label_name",
    "make_labels",
    "purged_split",
    "triple_barrier",
]

LABEL_KINDS = ("direction", "triple_barrier", "forward_return")


def label_name(kind: str, horizon: int) -> str:
    """The target's name, FreqAI style: ``&direction_15``."""
    return f"&{kind}_{horizon}"


def forward_return(close: np.ndarray, horizon: int) -> np.ndarray:
    """``log(close[i + horizon] / close[i])``; NaN for the last ``horizon`` rows."""
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    out = np.full(close.shape, np.nan)
    if close.size > horizon:
        out[:-horizon] = np.log(close[horizon:] / close[:-horizon])
    return out


def direction(close: np.ndarray, horizon: int, dead_band: float) -> np.ndarray:
    """1.0 when the forward return is above ``dead_band``, 0.0 when below ``-dead_band``,
    NaN inside the band (left out of training) and where the future is unknown."""
    if dead_band < 0:
        raise ValueError(f"dead_band must be >= 0, got {dead_band}")
    ret = forward_return(close, horizon)
    out = np.full(close.shape, np.nan)
    out[ret > dead_band] = 1.0
    out[ret < -dead_band] = 0.0
    return out


def triple_barrier(
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    *,
    horizon: int,
    barrier: float,
) -> np.ndarray:
    """Lopez de Prado's triple barrier: 1.0 if ``high`` reaches ``close[i] * (1 + barrier)``
    within the next ``horizon`` bars before ``low`` reaches ``close[i] * (1 - barrier)``,
    0.0 if the lower barrier comes first, NaN if neither does (or both in one bar, or the
    future is unknown)."""
    if horizon < 1 or barrier <= 0:
        raise ValueError(f"need horizon >= 1 and barrier > 0, got {horizon}, {barrier}")
    n = close.size
    out = np.full(n, np.nan)
    for i in range(n - horizon):
        upper, lower = close[i] * (1 + barrier), close[i] * (1 - barrier)
        hi = high[i + 1 : i + 1 + horizon] >= upper
        lo = low[i + 1 : i + 1 + horizon] <= lower
        first_hi = int(np.argmax(hi)) if hi.any() else horizon
        first_lo = int(np.argmax(lo)) if lo.any() else horizon
        if first_hi < first_lo:
            out[i] = 1.0
        elif first_lo < first_hi:
            out[i] = 0.0
    return out


def make_labels(
    kind: str,
    *,
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    horizon: int,
    dead_band: float,
) -> np.ndarray:
    """The labels of one symbol's bars by ``kind`` (one of ``LABEL_KINDS``); ``dead_band``
    is the triple barrier's distance for ``triple_barrier``."""
    if kind == "direction":
        return direction(close, horizon, dead_band)
    if kind == "triple_barrier":
        return triple_barrier(close, high, low, horizon=horizon, barrier=max(dead_band, 1e-6))
    if kind == "forward_return":
        return forward_return(close, horizon)
    raise ValueError(f"unknown label {kind!r} (known: {', '.join(LABEL_KINDS)})")


@dataclass(frozen=True, slots=True)
class Split:
    """Row ranges ``[train_start, train_end)`` and ``[test_start, test_end)``."""

    train_start: int
    train_end: int
    test_start: int
    test_end: int


def purged_split(n: int, *, horizon: int, train: int, test: int, embargo: int) -> Split | None:
    """The last ``test`` of ``n`` labelled rows held out, and up to ``train`` rows before them
    with ``horizon + embargo`` rows purged in between; None when fewer than ``test`` training
    rows would be left."""
    if min(horizon, train, test) < 1 or embargo < 0:
        raise ValueError("horizon, train and test must be >= 1 and embargo >= 0")
    test_start = n - test
    train_end = test_start - horizon - embargo
    if test_start < 0 or train_end < test:
        return None
    return Split(max(0, train_end - train), train_end, test_start, n)
