"""Signal portfolios on the research path: bars and signals in, ``Results`` out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from stockyard.backtest._results import (
    EquityCurve,
    JsonScalar,
    OrderRecord,
    PriceSeries,
    Results,
    Trade,
)
from stockyard.backtest.vector._kernels import cross_signals, simulate_long, sma_diff
from stockyard.core import OrderSide, OrderStatus, PositionSide

__all__ = [
    "BarArrays",
    "Costs",
    "bar_arrays",
    "run_signals",
    "run_sma_cross",
    "sma_cross_signals",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    """Trading costs of the research path: ``slippage_bps`` against the trader on every
    fill (not rounded to the tick), and a fee of ``per_order + per_share × qty +
    bps × notional`` on every fill. All zero by default, like the event engine's."""

    slippage_bps: float = 0.0
    fee_per_order: float = 0.0
    fee_per_share: float = 0.0
    fee_bps: float = 0.0

    def __post_init__(self) -> None:
        for name in ("slippage_bps", "fee_per_order", "fee_per_share", "fee_bps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        if self.slippage_bps >= 10_000:
            raise ValueError("slippage_bps must be below 10000 (100 %)")

    def as_array(self) -> np.ndarray:
        """The kernel's ``costs`` argument."""
        return np.array(
            [
                self.slippage_bps / 10_000,
                self.fee_per_order,
                self.fee_per_share,
                self.fee_bps / 10_000,
            ]
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "slippage_bps": self.slippage_bps,
            "fee_per_order": self.fee_per_order,
            "fee_per_share": self.fee_per_share,
            "fee_bps": self.fee_bps,
        }


@dataclass(frozen=True, slots=True)
class BarArrays:
    """The columns the kernels need, as contiguous arrays (timestamps in UTC ns)."""

    timestamps: np.ndarray
    open: np.ndarray
    close: np.ndarray


def bar_arrays(table: pa.Table) -> BarArrays:
    """Timestamps, opens and closes of a ``BAR_SCHEMA`` table. ``ValueError`` when it is
    empty, misses a column, or holds a non-finite or non-positive price."""
    for name in ("timestamp", "open", "close"):
        if name not in table.column_names:
            raise ValueError(f"bar table is missing column {name!r}")
    if table.num_rows == 0:
        raise ValueError("no bars")
    ts = table.column("timestamp").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
    arrays = BarArrays(
        np.ascontiguousarray(ts.to_numpy(), dtype=np.int64),
        np.ascontiguousarray(table.column("open").to_numpy(), dtype=np.float64),
        np.ascontiguousarray(table.column("close").to_numpy(), dtype=np.float64),
    )
    for name in ("open", "close"):
        values = getattr(arrays, name)
        if not bool((np.isfinite(values) & (values > 0)).all()):
            raise ValueError(f"{name} prices must be finite and > 0")
    if arrays.timestamps.size > 1 and bool((np.diff(arrays.timestamps) <= 0).any()):
        raise ValueError("bar timestamps must be strictly increasing")
    return arrays


def sma_cross_signals(
    close: np.ndarray, *, fast: int = 10, slow: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """``sma_cross``'s entries and exits (boolean arrays) on ``close``: an entry where
    ``fast[t-1] <= slow[t-1] and fast[t] > slow[t]``, an exit where ``fast[t-1] >=
    slow[t-1] and fast[t] < slow[t]``, both SMAs defined at ``t-1`` and ``t``."""
    _check_windows(fast, slow)
    values = np.ascontiguousarray(close, dtype=np.float64)
    entries, exits = cross_signals(sma_diff(values, fast, slow))
    return entries, exits


def _check_windows(fast: int, slow: int) -> None:
    for name, value in (("fast", fast), ("slow", slow)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if fast >= slow:
        raise ValueError(f"sma_cross needs fast < slow, got fast={fast} slow={slow}")


def run_signals(
    bars: pa.Table,
    entries: np.ndarray,
    exits: np.ndarray,
    *,
    symbol: str,
    qty: float = 100.0,
    cash: float = 100_000.0,
    costs: Costs | None = None,
    strategy: str = "signals",
    params: Mapping[str, JsonScalar] | None = None,
    timeframe: str = "",
    benchmark: PriceSeries | None = None,
) -> Results:
    """A long-only portfolio of ``qty`` shares of ``symbol`` driven by boolean ``entries``
    and ``exits`` (one per bar): flat + entry on bar ``t`` buys at ``open[t+1]``; long +
    exit sells at ``open[t+1]``. ``benchmark`` defaults to buying and holding ``symbol``."""
    if not (math.isfinite(qty) and qty > 0):
        raise ValueError(f"qty must be finite and > 0, got {qty!r}")
    if not (math.isfinite(cash) and cash > 0):
        raise ValueError(f"cash must be finite and > 0, got {cash!r}")
    arrays = bar_arrays(bars)
    n = arrays.timestamps.size
    signals = []
    for name, values in (("entries", entries), ("exits", exits)):
        array = np.ascontiguousarray(values, dtype=np.bool_)
        if array.shape != (n,):
            raise ValueError(f"{name} needs one value per bar ({n}), got shape {array.shape}")
        signals.append(array)
    costs = costs or Costs()
    position, cash_curve, equity, rows = simulate_long(
        arrays.open,
        arrays.close,
        signals[0],
        signals[1],
        float(qty),
        float(cash),
        costs.as_array(),
    )
    orders, trades = _orders_and_trades(rows, arrays.timestamps, symbol=symbol, qty=float(qty))
    prices = PriceSeries(
        symbol=symbol, timestamps=arrays.timestamps, open=arrays.open, close=arrays.close
    )
    return Results(
        strategy=strategy,
        timeframe=timeframe,
        starting_cash=float(cash),
        equity=EquityCurve(
            timestamps=arrays.timestamps,
            equity=equity,
            cash=cash_curve,
            positions={symbol: position},
        ),
        trades=trades,
        orders=orders,
        prices=(prices,),
        benchmark=benchmark if benchmark is not None else prices,
        params=dict(params or {}),
        meta={"engine": "vector", "symbol": symbol, **costs.to_dict()},
    )


def _orders_and_trades(
    rows: np.ndarray, ts: np.ndarray, *, symbol: str, qty: float
) -> tuple[tuple[OrderRecord, ...], tuple[Trade, ...]]:
    orders: list[OrderRecord] = []
    trades: list[Trade] = []
    entry: tuple[int, float, float] | None = None
    for decided, filled, side, price, fee in rows.tolist():
        buy = side > 0
        if filled < 0:
            orders.append(
                OrderRecord(
                    symbol=symbol,
                    side=OrderSide.BUY if buy else OrderSide.SELL,
                    qty=qty,
                    submitted_at=int(ts[int(decided)]),
                    status=OrderStatus.CANCELED,
                )
            )
            continue
        at = int(ts[int(filled)])
        orders.append(
            OrderRecord(
                symbol=symbol,
                side=OrderSide.BUY if buy else OrderSide.SELL,
                qty=qty,
                submitted_at=int(ts[int(decided)]),
                status=OrderStatus.FILLED,
                filled_at=at,
                fill_price=price,
                fee=fee,
            )
        )
        if buy:
            entry = (at, price, fee)
        elif entry is not None:
            fees = entry[2] + fee
            trades.append(
                Trade(
                    symbol=symbol,
                    side=PositionSide.LONG,
                    qty=qty,
                    entry_time=entry[0],
                    entry_price=entry[1],
                    exit_time=at,
                    exit_price=price,
                    fees=fees,
                    pnl=price * qty - fee - (entry[1] * qty + entry[2]),
                )
            )
            entry = None
    return tuple(orders), tuple(trades)


def run_sma_cross(
    bars: pa.Table,
    *,
    symbol: str,
    fast: int = 10,
    slow: int = 30,
    qty: float = 100.0,
    cash: float = 100_000.0,
    costs: Costs | None = None,
    timeframe: str = "",
    benchmark: PriceSeries | None = None,
) -> Results:
    """``sma_cross`` (the same rule as the built-in bot) on the research path."""
    _check_windows(fast, slow)
    arrays = bar_arrays(bars)
    entries, exits = sma_cross_signals(arrays.close, fast=fast, slow=slow)
    return run_signals(
        bars,
        entries,
        exits,
        symbol=symbol,
        qty=qty,
        cash=cash,
        costs=costs,
        strategy="sma_cross",
        params={"fast": int(fast), "slow": int(slow), "qty": qty},
        timeframe=timeframe,
        benchmark=benchmark,
    )
