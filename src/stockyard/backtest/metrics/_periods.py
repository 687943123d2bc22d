"""From bars to the periods metrics are annualised over.

Conventions (docs/backtesting.md, "Metrics"):

- Bars a day or shorter are aggregated to **daily** returns: the equity at the last bar of
  each New York calendar day, so an intraday strategy and a daily one are measured alike.
  The first day's return is measured from the starting cash.
- A year has **252** trading days; a series with bars on Saturdays or Sundays (crypto,
  traded every day) has **365**.
- Weekly bars are their own periods (52 a year), monthly bars too (12 a year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TRADING_DAYS", "Periods", "period_ends", "period_returns"]

TRADING_DAYS = 252
CALENDAR_DAYS = 365
_DAY_NS = 86_400 * 1_000_000_000
_ZONE = "America/New_York"


@dataclass(frozen=True, slots=True)
class Periods:
    """Where each period ends (row indexes into the bar series) and how many make a year."""

    ends: np.ndarray
    per_year: int
    kind: str  # "day", "week" or "month"


def period_ends(timestamps: np.ndarray) -> Periods:
    """Split bar timestamps (UTC ns, increasing) into periods: see the module docstring."""
    ts = np.asarray(timestamps, dtype=np.int64)
    if ts.size == 0:
        raise ValueError("no bars to measure")
    # As float64: exact for nanosecond gaps, and numpy's median is far faster on it than
    # on int64 when most gaps are equal (a minute series: 0.15 s → 3 ms per million bars).
    spacing = float(np.median(np.diff(ts).astype(np.float64))) if ts.size > 1 else float(_DAY_NS)
    if spacing >= 27 * _DAY_NS:
        return Periods(np.arange(ts.size, dtype=np.int64), 12, "month")
    if spacing >= 6 * _DAY_NS:
        return Periods(np.arange(ts.size, dtype=np.int64), 52, "week")
    local = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert(_ZONE)
    days = local.tz_localize(None).asi8 // _DAY_NS  # New York calendar day, as a number
    last_of_day = np.flatnonzero(np.append(days[1:] != days[:-1], True)).astype(np.int64)
    weekday = local[last_of_day].day_of_week.to_numpy()
    per_year = CALENDAR_DAYS if bool((weekday >= 5).any()) else TRADING_DAYS
    return Periods(last_of_day, per_year, "day")


def period_returns(values: np.ndarray, ends: np.ndarray, *, start_value: float) -> np.ndarray:
    """Simple returns of ``values`` sampled at ``ends``; the first from ``start_value``."""
    sampled = np.asarray(values, dtype=np.float64)[ends]
    previous = np.concatenate(([start_value], sampled[:-1]))
    returns: np.ndarray = sampled / previous - 1.0
    return returns
