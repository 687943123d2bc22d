"""Parameter sweeps of ``sma_cross`` over (fast, slow) pairs, thousands at once."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from stockyard.backtest.metrics import period_ends
from stockyard.backtest.vector._portfolio import Costs, bar_arrays
from stockyard.backtest.vector._sweep_kernel import sweep_sma_cross

__all__ = ["SWEEP_METRICS", "SweepResult", "parse_range", "sma_pairs", "sweep_sma"]

SWEEP_METRICS = ("sharpe", "total_return", "max_drawdown", "final_equity", "win_rate")
_CHUNKS = 20


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SweepResult:
    """One row per (fast, slow) pair, in the order given. ``sharpe`` follows the metrics
    conventions (daily returns, 252 or 365 a year); ``max_drawdown`` is <= 0; ``win_rate``
    is NaN without trades and ``sharpe`` NaN without volatility."""

    symbol: str
    bars: int
    fast: np.ndarray
    slow: np.ndarray
    num_orders: np.ndarray
    num_trades: np.ndarray
    win_rate: np.ndarray
    final_equity: np.ndarray
    total_return: np.ndarray
    max_drawdown: np.ndarray
    sharpe: np.ndarray

    def __len__(self) -> int:
        return int(self.fast.size)

    @property
    def total_orders(self) -> int:
        return int(self.num_orders.sum())

    def best(self, metric: str = "sharpe") -> int:
        """Row index of the best pair by ``metric`` (highest; for ``max_drawdown`` the
        shallowest). NaN rows never win; ties go to the first row."""
        if metric not in SWEEP_METRICS:
            raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(SWEEP_METRICS)}")
        values = np.asarray(getattr(self, metric), dtype=np.float64)
        if bool(np.isnan(values).all()):
            return 0
        return int(np.nanargmax(values))

    def rows(self) -> list[dict[str, float | int | None]]:
        """One plain dict per pair (NaN as ``None``), for JSON and tables."""
        out: list[dict[str, float | int | None]] = []
        for i in range(len(self)):
            row: dict[str, float | int | None] = {
                "fast": int(self.fast[i]),
                "slow": int(self.slow[i]),
                "num_orders": int(self.num_orders[i]),
                "num_trades": int(self.num_trades[i]),
            }
            for name in ("win_rate", "final_equity", "total_return", "max_drawdown", "sharpe"):
                value = float(getattr(self, name)[i])
                row[name] = value if math.isfinite(value) else None
            out.append(row)
        return out


def parse_range(text: str) -> list[int]:
    """``5:50:5`` (start:stop:step, stop included), ``5:50`` (step 1) or ``5,10,20``."""
    spec = text.strip()
    try:
        if ":" in spec:
            parts = [int(p) for p in spec.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            if step < 1 or stop < start:
                raise ValueError
            values = list(range(start, stop + 1, step))
        else:
            values = [int(p) for p in spec.split(",") if p.strip()]
    except ValueError:
        raise ValueError(
            f"bad range {text!r}: use start:stop:step (stop included) or a,b,c"
        ) from None
    if not values or min(values) < 1:
        raise ValueError(f"bad range {text!r}: windows must be integers >= 1")
    return sorted(set(values))


def sma_pairs(fasts: Sequence[int], slows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Every (fast, slow) with fast < slow, fast-major."""
    pairs = [(f, s) for f in fasts for s in slows if f < s]
    if not pairs:
        raise ValueError("no (fast, slow) pair has fast < slow")
    array = np.array(pairs, dtype=np.int64)
    return np.ascontiguousarray(array[:, 0]), np.ascontiguousarray(array[:, 1])


def sweep_sma(
    bars: pa.Table,
    *,
    symbol: str,
    fast: np.ndarray | Sequence[int],
    slow: np.ndarray | Sequence[int],
    qty: float = 100.0,
    cash: float = 100_000.0,
    costs: Costs | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run ``sma_cross`` for each pair ``(fast[i], slow[i])`` on ``bars`` (the same fills,
    fees and slippage as ``run_sma_cross``). ``on_progress(done, total)`` is called as
    chunks of pairs finish."""
    fasts = np.ascontiguousarray(fast, dtype=np.int64)
    slows = np.ascontiguousarray(slow, dtype=np.int64)
    if fasts.shape != slows.shape or fasts.ndim != 1 or fasts.size == 0:
        raise ValueError("fast and slow must be equally long, non-empty lists of windows")
    if bool((fasts < 1).any()) or bool((fasts >= slows).any()):
        raise ValueError("every pair needs 1 <= fast < slow")
    if not (math.isfinite(qty) and qty > 0) or not (math.isfinite(cash) and cash > 0):
        raise ValueError("qty and cash must be finite and > 0")
    arrays = bar_arrays(bars)
    periods = period_ends(arrays.timestamps)
    period_end = np.zeros(arrays.timestamps.size, dtype=np.bool_)
    period_end[periods.ends] = True
    cost_array = (costs or Costs()).as_array()
    step = max(1, math.ceil(fasts.size / _CHUNKS)) if on_progress else fasts.size
    parts = []
    for lo in range(0, fasts.size, step):
        hi = min(fasts.size, lo + step)
        parts.append(
            sweep_sma_cross(
                arrays.open,
                arrays.close,
                period_end,
                fasts[lo:hi],
                slows[lo:hi],
                float(qty),
                float(cash),
                cost_array,
            )
        )
        if on_progress is not None:
            on_progress(hi, int(fasts.size))
    table = np.concatenate(parts)
    trades = table[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = np.where(trades > 0, table[:, 2] / trades, np.nan)
        sharpe = np.where(
            table[:, 6] > 0, table[:, 5] / table[:, 6] * math.sqrt(periods.per_year), np.nan
        )
    return SweepResult(
        symbol=symbol,
        bars=int(arrays.timestamps.size),
        fast=fasts,
        slow=slows,
        num_orders=table[:, 0].astype(np.int64),
        num_trades=trades.astype(np.int64),
        win_rate=win_rate,
        final_equity=table[:, 3],
        total_return=table[:, 3] / cash - 1.0,
        max_drawdown=table[:, 4],
        sharpe=sharpe,
    )
