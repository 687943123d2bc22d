"""The exchange's mutable insides: working orders, positions and accounts.

Plain slotted classes, not dataclasses: the matching loop reads and writes their attributes
millions of times, and the public ``Order`` value is rebuilt only when an order changes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from stockyard.core import Fill, Order, OrderSide, OrderType, TimeInForce, copier

__all__ = [
    "KIND",
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_LIMIT",
    "TRAIL",
    "Ledger",
    "Pos",
    "Working",
    "evolve",
]

# Order kinds as small ints for the matching loop; a triggered stop changes kind.
MARKET, LIMIT, STOP, STOP_LIMIT, TRAIL = 0, 1, 2, 3, 4
KIND = {
    OrderType.MARKET: MARKET,
    OrderType.LIMIT: LIMIT,
    OrderType.STOP: STOP,
    OrderType.STOP_LIMIT: STOP_LIMIT,
    OrderType.TRAILING_STOP: TRAIL,
}
_ZERO = Decimal(0)
_NAN = float("nan")

_set = object.__setattr__


_copy = copier(Order)


def evolve(order: Order, **changes: Any) -> Order:
    """``dataclasses.replace`` for an ``Order`` without re-running its validation: the
    engine only moves state and times it has already checked. ``changes`` name fields."""
    new = _copy(order)
    for name, value in changes.items():
        _set(new, name, value)
    return new


# Where a working order lives.
BOOK, OPG, CLS, HELD, DONE = "book", "opg", "cls", "held", "done"


class Pos:
    """A signed position and its average entry price."""

    __slots__ = ("avg", "qty")

    def __init__(self, qty: Decimal, avg: Decimal) -> None:
        self.qty = qty
        self.avg = avg


class Working:
    """An order the exchange is working (or has finished with); ``order`` is its public
    value as of the last change."""

    __slots__ = (
        "account",
        "armed",
        "buy",
        "children",
        "cost",
        "crypto",
        "daytrade",
        "est",
        "extended",
        "filled",
        "hwm",
        "kind",
        "limit",
        "limit_d",
        "oco",
        "oco_secondary",
        "opening",
        "order",
        "parent",
        "qty",
        "remaining",
        "seen",
        "stop",
        "stop_d",
        "submitted",
        "symbol",
        "tif",
        "where",
        "whole",
    )

    def __init__(self, order: Order, account: Ledger, *, crypto: bool) -> None:
        self.order = order
        self.account = account
        self.symbol = order.symbol
        self.buy = order.side is OrderSide.BUY
        self.kind = KIND[order.type]
        self.tif: TimeInForce = order.time_in_force
        self.crypto = crypto
        self.extended = order.extended_hours
        self.submitted: datetime = order.submitted_at or order.created_at
        self.qty: Decimal | None = order.qty
        self.remaining: Decimal = order.qty if order.qty is not None else _ZERO
        self.filled = _ZERO
        self.cost = _ZERO
        self.whole = not crypto and order.qty is not None and order.qty == order.qty.to_integral()
        self.limit_d = order.limit_price
        self.limit = float(order.limit_price) if order.limit_price is not None else _NAN
        self.stop_d = order.stop_price
        self.stop = float(order.stop_price) if order.stop_price is not None else _NAN
        self.hwm: float | None = None
        self.seen = False  # met a data point it could trade on without filling: a maker
        self.armed = False  # an opg order waiting for its session's first price
        self.opening = _ZERO  # qty that opens or grows a position (reserves buying power)
        self.est = _ZERO  # price estimate for that reservation
        self.daytrade = False
        self.where = BOOK
        self.parent: Working | None = None
        self.children: list[Working] = []
        self.oco: Working | None = None
        self.oco_secondary = False  # second of an OCO pair: holds no extra quantity

    @property
    def side(self) -> OrderSide:
        return OrderSide.BUY if self.buy else OrderSide.SELL

    @property
    def live(self) -> bool:
        return self.where != DONE


class Ledger:
    """One account's balances, positions, orders and fills."""

    __slots__ = (
        "by_client",
        "cash",
        "crypto_volume",
        "daytrades",
        "fills",
        "id",
        "last_equity",
        "multiplier",
        "open",
        "opened_today",
        "orders",
        "pdt",
        "positions",
        "shorting",
    )

    def __init__(self, account_id: str, *, cash: Decimal, multiplier: int, shorting: bool) -> None:
        self.id = account_id
        self.cash = cash
        self.multiplier = multiplier
        self.shorting = shorting
        self.pdt = False
        self.last_equity = cash
        self.positions: dict[str, Pos] = {}
        self.orders: list[Working] = []  # every order, in submission order
        self.open: dict[str, Working] = {}  # order id -> open order
        self.by_client: dict[str, Working] = {}
        self.fills: list[Fill] = []
        self.daytrades: list[date] = []
        self.opened_today: dict[str, date] = {}  # symbol -> day a position was last opened/grown
        self.crypto_volume: list[tuple[datetime, Decimal]] = []
