"""Equity paths from sampled returns, and what is measured on them (vectorised numpy)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stockyard.backtest._results import JsonScalar

__all__ = ["BAND_PERCENTILES", "MonteCarloResult", "histogram", "simulate_paths"]

BAND_PERCENTILES = (5, 25, 50, 75, 95)
_CHUNK = 500  # paths per chunk: the arrays of one chunk stay within a few MB
_GRID = 252  # at most this many steps carry confidence bands (evenly spaced, ends kept)
_BINS = 50


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MonteCarloResult:
    """Distributions over ``paths`` simulated equity paths of ``steps`` steps (trades or
    days). ``bands[i]`` is the ``BAND_PERCENTILES[i]``-th percentile of equity at each step
    of ``band_steps`` (step 0 is the start); ``max_drawdown`` is <= 0; ruin is touching
    ``ruin_level`` × the starting value at any step."""

    method: str
    paths: int
    steps: int
    seed: int
    starting_value: float
    years: float
    ruin_level: float
    final_equity: np.ndarray
    cagr: np.ndarray
    max_drawdown: np.ndarray
    band_steps: np.ndarray
    bands: np.ndarray
    ruined: np.ndarray
    settings: dict[str, JsonScalar]

    @property
    def prob_loss(self) -> float:
        """Share of paths that end below the starting value."""
        return float(np.mean(self.final_equity < self.starting_value))

    @property
    def prob_ruin(self) -> float:
        """Share of paths that touch ``ruin_level`` × the starting value."""
        return float(np.mean(self.ruined))

    def summary(self) -> dict[str, object]:
        """Percentiles and means of each distribution, and the probabilities."""

        def describe(values: np.ndarray) -> dict[str, float]:
            cuts = np.percentile(values, BAND_PERCENTILES)
            out = {f"p{p}": float(v) for p, v in zip(BAND_PERCENTILES, cuts, strict=True)}
            return {"mean": float(values.mean()), **out}

        return {
            "method": self.method,
            "paths": self.paths,
            "steps": self.steps,
            "seed": self.seed,
            "starting_value": self.starting_value,
            "years": self.years,
            "ruin_level": self.ruin_level,
            "prob_loss": self.prob_loss,
            "prob_ruin": self.prob_ruin,
            "final_equity": describe(self.final_equity),
            "cagr": describe(self.cagr),
            "max_drawdown": describe(self.max_drawdown),
            "settings": dict(self.settings),
        }

    def to_dict(self) -> dict[str, object]:
        """``summary()`` plus the bands and histograms (bin edges and counts) for charts."""
        histograms = {}
        for name in ("final_equity", "cagr", "max_drawdown"):
            counts, edges = histogram(getattr(self, name))
            histograms[name] = {"edges": edges, "counts": counts}
        return {
            **self.summary(),
            "bands": {
                "step": self.band_steps,
                **{f"p{p}": self.bands[i] for i, p in enumerate(BAND_PERCENTILES)},
            },
            "histograms": histograms,
        }


def histogram(values: np.ndarray, bins: int = _BINS) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges of ``values``; all (nearly) equal values make one bin."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):
        return np.array([values.size]), np.array([lo, hi if hi > lo else lo + 1e-9])
    counts, edges = np.histogram(values, bins=bins)
    return counts, edges


def _grid(steps: int) -> np.ndarray:
    if steps + 1 <= _GRID:
        return np.arange(steps + 1, dtype=np.int64)
    return np.unique(np.linspace(0, steps, _GRID).round().astype(np.int64))


def _percentiles(rows: np.ndarray, percents: tuple[int, ...]) -> np.ndarray:
    """Percentiles of each row of an already sorted array, interpolated linearly between
    ranks (numpy's default method); one row out per percent."""
    count = rows.shape[1]
    out = np.empty((len(percents), rows.shape[0]))
    for i, percent in enumerate(percents):
        rank = percent / 100 * (count - 1)
        lo = math.floor(rank)
        hi = min(lo + 1, count - 1)
        out[i] = rows[:, lo] + (rank - lo) * (rows[:, hi] - rows[:, lo])
    return out


def simulate_paths(
    draw: Callable[[np.random.Generator, int], np.ndarray],
    *,
    method: str,
    paths: int,
    steps: int,
    seed: int,
    start: float,
    years: float,
    ruin_level: float,
    settings: dict[str, JsonScalar],
) -> MonteCarloResult:
    """Compound ``draw(rng, m)`` — an ``(m, steps)`` array of simple returns for ``m``
    paths — into equity paths, chunk by chunk from one seeded generator, and measure them."""
    if paths < 1 or steps < 1:
        raise ValueError("paths and steps must be >= 1")
    if not (math.isfinite(years) and years > 0):
        raise ValueError("the simulated span must be > 0 years")
    rng = np.random.default_rng(seed)
    grid = _grid(steps)
    final = np.empty(paths)
    worst = np.empty(paths)
    ruined = np.empty(paths, dtype=bool)
    sampled = np.empty((grid.size, paths))
    sampled[0] = start
    for lo in range(0, paths, _CHUNK):
        m = min(_CHUNK, paths - lo)
        growth = draw(rng, m)
        np.add(growth, 1.0, out=growth)
        np.maximum(growth, 0.0, out=growth)  # a loss beyond everything leaves nothing
        equity = np.cumprod(growth, axis=1, out=growth)
        equity *= start
        peaks = np.maximum.accumulate(equity, axis=1)
        np.maximum(peaks, start, out=peaks)
        with np.errstate(invalid="ignore", divide="ignore"):
            depth = np.min(equity / peaks, axis=1) - 1.0
        worst[lo : lo + m] = np.nan_to_num(depth, nan=-1.0)
        final[lo : lo + m] = equity[:, -1]
        ruined[lo : lo + m] = equity.min(axis=1) <= ruin_level * start
        sampled[1:, lo : lo + m] = equity[:, grid[1:] - 1].T
    ratio = np.maximum(final / start, 0.0)
    cagr = ratio ** (1.0 / years) - 1.0
    bands = _percentiles(np.sort(sampled, axis=1), BAND_PERCENTILES)
    return MonteCarloResult(
        method=method,
        paths=paths,
        steps=steps,
        seed=seed,
        starting_value=start,
        years=years,
        ruin_level=ruin_level,
        final_equity=final,
        cagr=cagr,
        max_drawdown=np.minimum(worst, 0.0),
        band_steps=grid,
        bands=bands,
        settings=settings,
        ruined=ruined,
    )
