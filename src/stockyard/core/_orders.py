"""Orders, fills, positions and accounts: exact values, spelled as Alpaca spells them.

Money and quantities are ``Decimal``. Enum values are Alpaca's strings, so an adapter maps
a vendor field by value, never by a table of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from stockyard.core._frozen import copier

__all__ = [
    "TERMINAL_STATUSES",
    "Account",
    "Fill",
    "Order",
    "OrderClass",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionSide",
    "TimeInForce",
    "to_decimal",
]


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BUY else -1

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    OPG = "opg"
    CLS = "cls"
    IOC = "ioc"
    FOK = "fok"


class OrderClass(StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"


class OrderStatus(StrEnum):
    """Alpaca's order statuses."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    PENDING_NEW = "pending_new"
    ACCEPTED = "accepted"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REPLACED,
        OrderStatus.REJECTED,
        OrderStatus.DONE_FOR_DAY,
    }
)


class PositionSide(StrEnum):
    LONG = "long"
    SHORT = "short"


def to_decimal(value: Decimal | int | float | str, name: str = "value") -> Decimal:
    """An exact, finite ``Decimal``; floats go through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _positive(name: str, value: Decimal | None) -> None:
    if value is not None and not (value.is_finite() and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """What a strategy asks for. Validated when made; the broker may still reject it."""

    symbol: str
    side: OrderSide
    qty: Decimal | None = None
    notional: Decimal | None = None
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    extended_hours: bool = False
    client_order_id: str | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit_limit_price: Decimal | None = None
    stop_loss_stop_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None

    def __post_init__(self) -> None:  # noqa: PLR0912 - one rule a line reads best
        if not self.symbol or self.symbol != self.symbol.strip():
            raise ValueError(f"symbol must be a non-empty symbol, got {self.symbol!r}")
        if (self.qty is None) == (self.notional is None):
            raise ValueError("give exactly one of qty or notional")
        for name in _AMOUNTS:
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, Decimal):
                value = to_decimal(value, name)
                object.__setattr__(self, name, value)
            _positive(name, value)
        kind = self.type
        if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise ValueError(f"a {kind.value} order needs a limit_price")
        if kind in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise ValueError(f"a {kind.value} order needs a stop_price")
        if kind is OrderType.TRAILING_STOP:
            if (self.trail_price is None) == (self.trail_percent is None):
                raise ValueError(
                    "a trailing_stop order needs exactly one of trail_price or trail_percent"
                )
        elif self.trail_price is not None or self.trail_percent is not None:
            raise ValueError("trail_price and trail_percent are for trailing_stop orders only")
        if kind in (OrderType.MARKET, OrderType.STOP, OrderType.TRAILING_STOP) and (
            self.limit_price is not None
        ):
            raise ValueError(f"a {kind.value} order takes no limit_price")
        if kind in (OrderType.MARKET, OrderType.LIMIT) and self.stop_price is not None:
            raise ValueError(f"a {kind.value} order takes no stop_price")
        if self.notional is not None and kind is not OrderType.MARKET:
            raise ValueError("notional orders must be market orders")
        if self.client_order_id is not None and not 0 < len(self.client_order_id) <= 128:
            raise ValueError("client_order_id must be 1 to 128 characters")
        if self.order_class is OrderClass.BRACKET and (
            self.take_profit_limit_price is None or self.stop_loss_stop_price is None
        ):
            raise ValueError(
                "a bracket order needs take_profit_limit_price and stop_loss_stop_price"
            )

    @property
    def is_crypto(self) -> bool:
        return "/" in self.symbol

    def with_client_order_id(self, client_order_id: str) -> OrderRequest:
        """This request with ``client_order_id`` set (the order manager numbers intents).

        Equal to ``dataclasses.replace(self, client_order_id=...)``: every other field was
        validated when this request was made and is copied as it is, so only the id is
        checked (the order path makes one per order).
        """
        if not 0 < len(client_order_id) <= 128:
            raise ValueError("client_order_id must be 1 to 128 characters")
        new = _copy_request(self)
        object.__setattr__(new, "client_order_id", client_order_id)
        return new


_AMOUNTS = (
    "qty",
    "notional",
    "limit_price",
    "stop_price",
    "trail_price",
    "trail_percent",
    "take_profit_limit_price",
    "stop_loss_stop_price",
    "stop_loss_limit_price",
)


_copy_request = copier(OrderRequest)


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order as the broker knows it. A new state is a new ``Order`` (``evolve``)."""

    id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    qty: Decimal | None = None
    notional: Decimal | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    extended_hours: bool = False
    order_class: OrderClass = OrderClass.SIMPLE
    submitted_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    legs: tuple[Order, ...] = ()
    reject_reason: str | None = None

    def __post_init__(self) -> None:
        _aware("created_at", self.created_at)
        _aware("updated_at", self.updated_at)

    @property
    def remaining_qty(self) -> Decimal | None:
        return None if self.qty is None else self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status.is_open


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution against an order."""

    id: str
    order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    timestamp: datetime
    fee: Decimal = Decimal(0)
    cumulative_qty: Decimal | None = None
    leaves_qty: Decimal | None = None

    def __post_init__(self) -> None:
        _aware("timestamp", self.timestamp)
        _positive("qty", self.qty)
        _positive("price", self.price)
        if self.fee < 0:
            raise ValueError(f"fee must be >= 0, got {self.fee}")

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A holding: ``qty`` is signed (negative is short)."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    current_price: Decimal | None = None

    @property
    def side(self) -> PositionSide:
        return PositionSide.SHORT if self.qty < 0 else PositionSide.LONG

    @property
    def cost_basis(self) -> Decimal:
        return self.qty * self.avg_entry_price

    @property
    def market_value(self) -> Decimal | None:
        return None if self.current_price is None else self.qty * self.current_price

    @property
    def unrealized_pl(self) -> Decimal | None:
        value = self.market_value
        return None if value is None else value - self.cost_basis


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """Balances as the broker reports them."""

    id: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    long_market_value: Decimal = Decimal(0)
    short_market_value: Decimal = Decimal(0)
    currency: str = "USD"
    pattern_day_trader: bool = False
    trading_blocked: bool = False
    shorting_enabled: bool = True
    multiplier: Decimal = Decimal(1)
    daytrade_count: int = 0
    last_equity: Decimal | None = None  # equity at the previous close
    non_marginable_buying_power: Decimal | None = None  # cash-only power (crypto, non-marginable)
    regt_buying_power: Decimal | None = None  # overnight (Reg T, at most 2x) buying power
    daytrading_buying_power: Decimal | None = None
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC))
