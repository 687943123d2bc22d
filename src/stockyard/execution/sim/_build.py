"""Turning an accepted request into working orders (an entry and its legs), and the
quantity arithmetic the acceptance checks need."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from stockyard.core import (
    Order,
    OrderClass,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    maker,
)
from stockyard.execution.sim._errors import InvalidRequestError
from stockyard.execution.sim._rules import take_profit_price
from stockyard.execution.sim._state import BOOK, HELD, Ledger, Pos, Working

__all__ = ["build_orders", "exposure", "request_for_replace"]

_ZERO = Decimal(0)
_new_order = maker(Order)  # Order(...), validated the same, cheaper (see ``_make``)


def _order(
    *,
    ids: Callable[[], str],
    client_order_id: str | None,
    request: OrderRequest,
    side: OrderSide,
    kind: OrderType,
    limit: Decimal | None,
    stop: Decimal | None,
    status: OrderStatus,
    now: datetime,
    order_class: OrderClass,
    replaces: str | None = None,
) -> Order:
    order_id = ids()
    return _new_order(
        id=order_id,
        client_order_id=client_order_id or ids(),
        symbol=request.symbol,
        side=side,
        type=kind,
        time_in_force=request.time_in_force,
        status=status,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        qty=request.qty,
        notional=request.notional,
        limit_price=limit,
        stop_price=stop,
        trail_price=request.trail_price if kind is OrderType.TRAILING_STOP else None,
        trail_percent=request.trail_percent if kind is OrderType.TRAILING_STOP else None,
        extended_hours=request.extended_hours,
        order_class=order_class,
        replaces=replaces,
    )


def build_orders(
    request: OrderRequest,
    *,
    ledger: Ledger,
    crypto: bool,
    now: datetime,
    ids: Callable[[], str],
    order_class: OrderClass | None = None,
    replaces: str | None = None,
) -> Working:
    """The entry order, its legs linked in ``children`` (held until the entry fills) and
    OCO siblings linked in ``oco``. Nothing is registered yet."""
    klass = order_class or request.order_class
    tp = take_profit_price(request)
    sl, sl_limit = request.stop_loss_stop_price, request.stop_loss_limit_price
    entry_kind, entry_limit = request.type, request.limit_price
    if request.order_class is OrderClass.OCO:
        entry_kind, entry_limit = OrderType.LIMIT, tp
    entry = Working(
        _order(
            ids=ids,
            client_order_id=request.client_order_id,
            request=request,
            side=request.side,
            kind=entry_kind,
            limit=entry_limit,
            stop=request.stop_price,
            status=OrderStatus.NEW,
            now=now,
            order_class=klass,
            replaces=replaces,
        ),
        ledger,
        crypto=crypto,
    )
    if request.order_class is OrderClass.SIMPLE:
        return entry
    exit_side = request.side if request.order_class is OrderClass.OCO else request.side.opposite
    where = BOOK if request.order_class is OrderClass.OCO else HELD
    legs: list[Working] = []
    if tp is not None and request.order_class is not OrderClass.OCO:
        legs.append(
            _leg(
                request,
                entry,
                side=exit_side,
                kind=OrderType.LIMIT,
                limit=tp,
                stop=None,
                now=now,
                ids=ids,
            )
        )
    if sl is not None:
        kind = OrderType.STOP if sl_limit is None else OrderType.STOP_LIMIT
        legs.append(
            _leg(
                request, entry, side=exit_side, kind=kind, limit=sl_limit, stop=sl, now=now, ids=ids
            )
        )
    for leg in legs:
        leg.where = where
        leg.parent = entry
    entry.children = legs
    if request.order_class is OrderClass.OCO:
        entry.oco, legs[0].oco = legs[0], entry
        legs[0].oco_secondary = True
    elif len(legs) == 2:
        legs[0].oco, legs[1].oco = legs[1], legs[0]
        legs[1].oco_secondary = True
    return entry


def _leg(
    request: OrderRequest,
    entry: Working,
    *,
    side: OrderSide,
    kind: OrderType,
    limit: Decimal | None,
    stop: Decimal | None,
    now: datetime,
    ids: Callable[[], str],
) -> Working:
    held = request.order_class is not OrderClass.OCO
    order = _order(
        ids=ids,
        client_order_id=None,
        request=request,
        side=side,
        kind=kind,
        limit=limit,
        stop=stop,
        status=OrderStatus.HELD if held else OrderStatus.NEW,
        now=now,
        order_class=entry.order.order_class,
    )
    return Working(order, entry.account, crypto=entry.crypto)


def exposure(
    request: OrderRequest, *, position: Pos | None, held: Decimal, last: Decimal | None
) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity that opens or grows a position, its price estimate, quantity available to
    close): sells close the long not already held by open sells, buys cover the short."""
    est = request.limit_price or request.stop_price or last or _ZERO
    if request.qty is not None:
        qty = request.qty
    else:
        qty = request.notional / est if request.notional is not None and est else _ZERO
    have = position.qty if position is not None else _ZERO
    if request.side is OrderSide.BUY:
        available = max(-have - held, _ZERO)
    else:
        available = max(have - held, _ZERO)
    return max(qty - available, _ZERO), est, available


def request_for_replace(
    old: Working,
    *,
    qty: Decimal | None,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    trail: Decimal | None,
    time_in_force: TimeInForce | None,
    client_order_id: str | None,
) -> OrderRequest:
    """The request a replacement stands for; 422 for fields the order type does not take."""
    o = old.order
    if all(v is None for v in (qty, limit_price, stop_price, trail, time_in_force)):
        raise InvalidRequestError(
            "replace needs at least one of qty, limit_price, stop_price, trail or time_in_force"
        )
    if o.notional is not None:
        raise InvalidRequestError("notional orders cannot be replaced")
    if limit_price is not None and o.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        raise InvalidRequestError("limit_price is only for limit and stop_limit orders")
    if stop_price is not None and o.type not in (OrderType.STOP, OrderType.STOP_LIMIT):
        raise InvalidRequestError("stop_price is only for stop and stop_limit orders")
    if trail is not None and o.type is not OrderType.TRAILING_STOP:
        raise InvalidRequestError("trail is only for trailing_stop orders")
    use_price = o.trail_price is not None
    try:
        return OrderRequest(
            symbol=o.symbol,
            side=o.side,
            qty=qty if qty is not None else old.remaining,
            type=o.type,
            time_in_force=time_in_force or o.time_in_force,
            limit_price=limit_price or o.limit_price,
            stop_price=stop_price or o.stop_price,
            trail_price=(trail or o.trail_price) if use_price else None,
            trail_percent=None if use_price else (trail or o.trail_percent),
            extended_hours=o.extended_hours,
            client_order_id=client_order_id,
        )
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None
