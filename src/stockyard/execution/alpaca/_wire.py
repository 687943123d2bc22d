"""Alpaca's trading JSON ↔ our core values: the one place this venue's wire format is read.

Money and quantities go out as exact decimal strings (Alpaca accepts them) and come back as
``Decimal``. Fill ids are ``{order_id}:{cumulative qty}``, built the same way from a stream
update and from a ``FILL`` activity, so a fill seen both ways is recorded once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from stockyard.core import (
    Account,
    Fill,
    Order,
    OrderClass,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)
from stockyard.execution._broker import ReplaceRequest
from stockyard.execution.sim import TradeEvent, TradeUpdate
from stockyard.resilience import InvalidDataError

__all__ = [
    "account_from_json",
    "activity_fill",
    "fill_id",
    "order_from_json",
    "position_from_json",
    "replace_json",
    "request_json",
    "trade_update_from_json",
]

JSON = Mapping[str, object]
_CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _dec(data: JSON, key: str) -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise InvalidDataError(f"{key} is not a number: {value!r}") from None


def _req_dec(data: JSON, key: str) -> Decimal:
    value = _dec(data, key)
    if value is None:
        raise InvalidDataError(f"{key} is missing")
    return value


def _time(data: JSON, key: str) -> datetime | None:
    value = data.get(key)
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Alpaca may send nanoseconds; Python keeps microseconds
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _req_time(data: JSON, key: str) -> datetime:
    value = _time(data, key)
    if value is None:
        raise InvalidDataError(f"{key} is missing")
    return value


def _symbol(symbol: str, asset_class: object) -> str:
    """Alpaca writes crypto positions without the slash (``BTCUSD``); we always use it."""
    if asset_class != "crypto" or "/" in symbol:
        return symbol
    for quote in _CRYPTO_QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return f"{symbol[: -len(quote)]}/{quote}"
    return symbol


def fill_id(order_id: str, cumulative_qty: Decimal) -> str:
    return f"{order_id}:{_num(cumulative_qty)}"


def request_json(request: OrderRequest) -> dict[str, object]:
    """``POST /v2/orders`` body."""
    body: dict[str, object] = {
        "symbol": request.symbol,
        "side": request.side.value,
        "type": request.type.value,
        "time_in_force": request.time_in_force.value,
    }
    optional = {
        "qty": _num(request.qty),
        "notional": _num(request.notional),
        "limit_price": _num(request.limit_price),
        "stop_price": _num(request.stop_price),
        "trail_price": _num(request.trail_price),
        "trail_percent": _num(request.trail_percent),
        "client_order_id": request.client_order_id,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.extended_hours:
        body["extended_hours"] = True
    if request.order_class is not OrderClass.SIMPLE:
        body["order_class"] = request.order_class.value
    if request.take_profit_limit_price is not None:
        body["take_profit"] = {"limit_price": _num(request.take_profit_limit_price)}
    if request.stop_loss_stop_price is not None:
        stop: dict[str, object] = {"stop_price": _num(request.stop_loss_stop_price)}
        if request.stop_loss_limit_price is not None:
            stop["limit_price"] = _num(request.stop_loss_limit_price)
        body["stop_loss"] = stop
    return body


def replace_json(change: ReplaceRequest) -> dict[str, object]:
    """``PATCH /v2/orders/{id}`` body."""
    fields = {
        "qty": _num(change.qty),
        "limit_price": _num(change.limit_price),
        "stop_price": _num(change.stop_price),
        "trail": _num(change.trail),
        "time_in_force": None if change.time_in_force is None else change.time_in_force.value,
        "client_order_id": change.client_order_id,
    }
    return {k: v for k, v in fields.items() if v is not None}


def order_from_json(data: JSON) -> Order:
    """An Alpaca order (REST or the ``order`` of a trade update)."""
    try:
        raw_legs = data.get("legs")
        legs = raw_legs if isinstance(raw_legs, list) else []
        created = _req_time(data, "created_at")
        return Order(
            id=str(data["id"]),
            client_order_id=str(data["client_order_id"]),
            symbol=str(data["symbol"]),
            side=OrderSide(str(data["side"])),
            type=OrderType(str(data.get("type") or data.get("order_type"))),
            time_in_force=TimeInForce(str(data["time_in_force"])),
            status=OrderStatus(str(data["status"])),
            created_at=created,
            updated_at=_time(data, "updated_at") or created,
            qty=_dec(data, "qty"),
            notional=_dec(data, "notional"),
            filled_qty=_dec(data, "filled_qty") or Decimal(0),
            filled_avg_price=_dec(data, "filled_avg_price"),
            limit_price=_dec(data, "limit_price"),
            stop_price=_dec(data, "stop_price"),
            trail_price=_dec(data, "trail_price"),
            trail_percent=_dec(data, "trail_percent"),
            hwm=_dec(data, "hwm"),
            extended_hours=bool(data.get("extended_hours")),
            order_class=OrderClass(str(data.get("order_class") or "simple")),
            submitted_at=_time(data, "submitted_at"),
            filled_at=_time(data, "filled_at"),
            canceled_at=_time(data, "canceled_at"),
            expired_at=_time(data, "expired_at"),
            failed_at=_time(data, "failed_at"),
            replaced_at=_time(data, "replaced_at"),
            replaced_by=_opt_str(data, "replaced_by"),
            replaces=_opt_str(data, "replaces"),
            legs=tuple(order_from_json(leg) for leg in legs if isinstance(leg, Mapping)),
        )
    except (KeyError, ValueError) as exc:
        raise InvalidDataError(f"malformed order from the broker: {exc!r}") from exc


def _opt_str(data: JSON, key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def trade_update_from_json(data: JSON, *, account_id: str) -> TradeUpdate:
    """The ``data`` of a ``trade_updates`` message."""
    raw_order = data.get("order")
    if not isinstance(raw_order, Mapping):
        raise InvalidDataError("trade update without an order")
    order = order_from_json(raw_order)
    event = TradeEvent(str(data["event"]))
    qty = _dec(data, "qty")
    execution = None
    if event in (TradeEvent.FILL, TradeEvent.PARTIAL_FILL) and qty is not None:
        execution = fill_id(order.id, order.filled_qty)
    return TradeUpdate(
        event=event,
        order=order,
        timestamp=_time(data, "timestamp") or order.updated_at,
        account_id=account_id,
        price=_dec(data, "price"),
        qty=qty,
        position_qty=_dec(data, "position_qty"),
        execution_id=execution,
    )


def activity_fill(data: JSON, *, client_order_id: str) -> Fill:
    """A ``FILL`` account activity."""
    order_id = str(data["order_id"])
    cumulative = _dec(data, "cum_qty") or _req_dec(data, "qty")
    return Fill(
        id=fill_id(order_id, cumulative),
        order_id=order_id,
        client_order_id=client_order_id,
        symbol=str(data["symbol"]),
        side=OrderSide(str(data["side"])),
        qty=_req_dec(data, "qty"),
        price=_req_dec(data, "price"),
        timestamp=_req_time(data, "transaction_time"),
        cumulative_qty=cumulative,
        leaves_qty=_dec(data, "leaves_qty"),
    )


def position_from_json(data: JSON) -> Position:
    return Position(
        symbol=_symbol(str(data["symbol"]), data.get("asset_class")),
        qty=_req_dec(data, "qty"),
        avg_entry_price=_req_dec(data, "avg_entry_price"),
        current_price=_dec(data, "current_price"),
    )


def account_from_json(data: JSON, *, now: datetime) -> Account:
    return Account(
        id=str(data["id"]),
        cash=_req_dec(data, "cash"),
        equity=_req_dec(data, "equity"),
        buying_power=_req_dec(data, "buying_power"),
        long_market_value=_dec(data, "long_market_value") or Decimal(0),
        short_market_value=_dec(data, "short_market_value") or Decimal(0),
        currency=str(data.get("currency") or "USD"),
        pattern_day_trader=bool(data.get("pattern_day_trader")),
        trading_blocked=bool(data.get("trading_blocked")),
        shorting_enabled=bool(data.get("shorting_enabled")),
        multiplier=_dec(data, "multiplier") or Decimal(1),
        daytrade_count=int(str(data.get("daytrade_count") or 0)),
        last_equity=_dec(data, "last_equity"),
        non_marginable_buying_power=_dec(data, "non_marginable_buying_power"),
        regt_buying_power=_dec(data, "regt_buying_power"),
        daytrading_buying_power=_dec(data, "daytrading_buying_power"),
        as_of=now,
    )
