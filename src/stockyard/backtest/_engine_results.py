"""An event-engine run as the shared ``Results`` value (the vector path fills the same one).

- ``trades``: round trips per strategy and symbol, flat to flat, from the fills (a fill
  through zero closes one trade and opens the next; its fee is split by quantity).
  Money is summed exactly in ``Decimal`` and turned to float at the end.
- ``equity``: cash + Σ position × close at every bar's close, built with arrays from the
  fills (cash and positions change only there), not marked bar by bar in the loop.
- ``orders``: every order the exchange accepted, in the order they were sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from stockyard.backtest._engine import EngineRun
from stockyard.backtest._results import (
    EquityCurve,
    JsonScalar,
    OrderRecord,
    PriceSeries,
    Results,
    Trade,
)
from stockyard.core import Fill, Order, OrderSide, OrderStatus, PositionSide, to_ns
from stockyard.strategy import Strategy

__all__ = ["build_results", "round_trips"]

_ZERO = Decimal(0)


class _Open:
    """A round trip being built."""

    __slots__ = ("entry_cost", "entry_qty", "entry_time", "exit_qty", "exit_value", "fees")

    def __init__(self, entry_time: int) -> None:
        self.entry_time = entry_time
        self.entry_qty = self.entry_cost = _ZERO
        self.exit_qty = self.exit_value = _ZERO
        self.fees = _ZERO


def round_trips(fills: Sequence[Fill], owners: dict[str, str]) -> list[Trade]:
    """Closed round trips, per (strategy, symbol), in the order they closed."""
    held: dict[tuple[str, str], Decimal] = {}
    building: dict[tuple[str, str], _Open] = {}
    trades: list[Trade] = []
    for fill in fills:
        key = (owners.get(fill.client_order_id, ""), fill.symbol)
        at = to_ns(fill.timestamp)
        signed = fill.qty if fill.side is OrderSide.BUY else -fill.qty
        position = held.get(key, _ZERO)
        rest, fee = signed, fill.fee
        if position and (position > 0) != (signed > 0):  # reduces (maybe through zero)
            closing = min(abs(position), fill.qty)
            part_fee = fee * closing / fill.qty
            trip = building[key]
            trip.exit_qty += closing
            trip.exit_value += closing * fill.price
            trip.fees += part_fee
            position += closing if signed > 0 else -closing
            rest = signed + (-closing if signed > 0 else closing)
            fee -= part_fee
            if position == 0:
                trades.append(_close(fill.symbol, trip, long=signed < 0, at=at))
                del building[key]
        if rest:
            trip = building.get(key) or building.setdefault(key, _Open(at))
            trip.entry_qty += abs(rest)
            trip.entry_cost += abs(rest) * fill.price
            trip.fees += fee
            position += rest
        held[key] = position
    return trades


def _close(symbol: str, trip: _Open, *, long: bool, at: int) -> Trade:
    entry = trip.entry_cost / trip.entry_qty
    exit_ = trip.exit_value / trip.exit_qty
    gross = (trip.exit_value - trip.entry_cost) if long else (trip.entry_cost - trip.exit_value)
    return Trade(
        symbol=symbol,
        side=PositionSide.LONG if long else PositionSide.SHORT,
        qty=float(trip.entry_qty),
        entry_time=trip.entry_time,
        entry_price=float(entry),
        exit_time=at,
        exit_price=float(exit_),
        fees=float(trip.fees),
        pnl=float(gross - trip.fees),
    )


def _equity(run: EngineRun) -> EquityCurve:
    timeline = np.unique(np.concatenate([s.ts for s in run.data.symbols]))
    n = timeline.size
    cash_delta = np.zeros(n)
    cash_delta[0] = float(run.config.cash)
    qty_delta = {s.symbol: np.zeros(n) for s in run.data.symbols}
    for fill in run.fills:
        i = int(np.searchsorted(timeline, to_ns(fill.timestamp), side="left"))
        i = min(i, n - 1)
        signed = fill.qty if fill.side is OrderSide.BUY else -fill.qty
        cash_delta[i] -= float(signed * fill.price + fill.fee)
        qty_delta[fill.symbol][i] += float(signed)
    cash = np.cumsum(cash_delta)
    equity = cash.copy()
    positions: dict[str, np.ndarray] = {}
    for series in run.data.symbols:
        qty = np.cumsum(qty_delta[series.symbol])
        idx = np.searchsorted(series.ts, timeline, side="right") - 1
        close = np.where(idx >= 0, series.close[np.maximum(idx, 0)], 0.0)
        equity += qty * close
        positions[series.symbol] = qty
    return EquityCurve(timestamps=timeline, equity=equity, cash=cash, positions=positions)


def _orders(run: EngineRun) -> tuple[OrderRecord, ...]:
    fees: dict[str, Decimal] = {}
    for fill in run.fills:
        fees[fill.client_order_id] = fees.get(fill.client_order_id, _ZERO) + fill.fee
    return tuple(_record(order, fees.get(order.client_order_id, _ZERO)) for order in run.orders)


def _record(order: Order, fee: Decimal) -> OrderRecord:
    filled = order.status is OrderStatus.FILLED or (
        order.filled_qty > 0 and order.filled_avg_price is not None
    )
    stamp = order.filled_at or order.updated_at
    return OrderRecord(
        symbol=order.symbol,
        side=order.side,
        qty=float(order.qty if order.qty is not None else order.filled_qty),
        submitted_at=to_ns(order.submitted_at or order.created_at),
        status=order.status,
        filled_at=to_ns(stamp) if filled else None,
        fill_price=float(order.filled_avg_price)
        if filled and order.filled_avg_price is not None
        else None,
        fee=float(fee),
        client_order_id=order.client_order_id,
    )


def _params(strategies: Sequence[Strategy]) -> dict[str, JsonScalar]:
    out: dict[str, JsonScalar] = {}
    for strategy in strategies:
        prefix = "" if len(strategies) == 1 else f"{strategy.strategy_id}."
        for key, value in strategy.parameters.items():
            out[prefix + key] = str(value) if isinstance(value, Decimal) else value
    return out


def build_results(run: EngineRun, *, meta: dict[str, JsonScalar] | None = None) -> Results:
    """The shared ``Results`` of an event-engine run (``meta`` adds provenance)."""
    prices = tuple(
        PriceSeries(symbol=s.symbol, timestamps=s.ts, open=s.open, close=s.close)
        for s in run.data.symbols
    )
    config = run.config
    return Results(
        strategy="+".join(s.name for s in run.strategies) or "none",
        timeframe=str(run.data.timeframe),
        starting_cash=float(config.cash),
        equity=_equity(run),
        trades=tuple(round_trips(run.fills, run.owners)),
        orders=_orders(run),
        prices=prices,
        benchmark=prices[0],
        params=_params(run.strategies),
        provenance=run.data.provenance,
        meta={
            "engine": "event",
            "seed": config.seed,
            "calendar": config.calendar,
            "bars": run.data.bars,
            "final_cash_exact": str(run.final_cash),
            "final_equity_exact": str(run.final_equity),
            "refused_orders": len(run.refusals),
            "strategy_failures": len(run.failures),
            **({"warmup_bars": config.warmup} if config.warmup else {}),
            **(meta or {}),
        },
    )
