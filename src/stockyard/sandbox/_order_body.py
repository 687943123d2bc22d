"""Order bodies from JSON into ``OrderRequest``: types checked, absurd values refused, and
every refusal a 422 that names the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stockyard.core import OrderClass, OrderRequest, OrderSide, OrderType, TimeInForce
from stockyard.sandbox._errors import SandboxHTTPError

__all__ = ["ReplaceBody", "parse_order", "parse_replace"]

# Far beyond any real order, small enough that no arithmetic on them overflows a cash balance.
_MAX_QTY = Decimal(1_000_000_000)
_MAX_PRICE = Decimal(1_000_000_000)
_MAX_NOTIONAL = Decimal(1_000_000_000_000)

Qty = Annotated[Decimal, Field(gt=0, le=_MAX_QTY, allow_inf_nan=False, decimal_places=9)]
Price = Annotated[Decimal, Field(gt=0, le=_MAX_PRICE, allow_inf_nan=False, decimal_places=9)]
Notional = Annotated[Decimal, Field(gt=0, le=_MAX_NOTIONAL, allow_inf_nan=False, decimal_places=9)]
Percent = Annotated[Decimal, Field(gt=0, lt=100, allow_inf_nan=False, decimal_places=9)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class _TakeProfit(_Strict):
    limit_price: Price


class _StopLoss(_Strict):
    stop_price: Price
    limit_price: Price | None = None


class _OrderBody(_Strict):
    symbol: Annotated[str, Field(min_length=1, max_length=32)]
    side: OrderSide
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce
    qty: Qty | None = None
    notional: Notional | None = None
    limit_price: Price | None = None
    stop_price: Price | None = None
    trail_price: Price | None = None
    trail_percent: Percent | None = None
    extended_hours: bool = False
    client_order_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    order_class: OrderClass | None = None
    take_profit: _TakeProfit | None = None
    stop_loss: _StopLoss | None = None

    @field_validator(
        "qty",
        "notional",
        "limit_price",
        "stop_price",
        "trail_price",
        "trail_percent",
        mode="before",
    )
    @classmethod
    def _number(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be a number, not a boolean")
        return value

    @field_validator("order_class", mode="before")
    @classmethod
    def _empty_class(cls, value: object) -> object:
        return None if value == "" else value


class ReplaceBody(_Strict):
    """``PATCH /v2/orders/{id}``: what may change."""

    qty: Qty | None = None
    time_in_force: TimeInForce | None = None
    limit_price: Price | None = None
    stop_price: Price | None = None
    trail: Price | None = None
    client_order_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None


def _invalid(exc: ValidationError) -> SandboxHTTPError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    message = str(first["msg"]).removeprefix("Value error, ")
    return SandboxHTTPError(422, f"invalid {where}: {message}")


def parse_order(data: dict[str, object], *, symbol: str) -> OrderRequest:
    """The ``OrderRequest`` a ``POST /v2/orders`` body asks for (``symbol`` resolved)."""
    try:
        body = _OrderBody.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    try:
        return OrderRequest(
            symbol=symbol,
            side=body.side,
            qty=body.qty,
            notional=body.notional,
            type=body.type,
            time_in_force=body.time_in_force,
            limit_price=body.limit_price,
            stop_price=body.stop_price,
            trail_price=body.trail_price,
            trail_percent=body.trail_percent,
            extended_hours=body.extended_hours,
            client_order_id=body.client_order_id,
            order_class=body.order_class or OrderClass.SIMPLE,
            take_profit_limit_price=body.take_profit.limit_price if body.take_profit else None,
            stop_loss_stop_price=body.stop_loss.stop_price if body.stop_loss else None,
            stop_loss_limit_price=body.stop_loss.limit_price if body.stop_loss else None,
        )
    except ValueError as exc:
        raise SandboxHTTPError(422, str(exc)) from None


def parse_replace(data: dict[str, object]) -> ReplaceBody:
    try:
        return ReplaceBody.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
