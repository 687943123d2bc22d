"""``stockyard bench frozen``: the order path's frozen values made and copied by the
generated code of ``core.maker``/``core.copier`` against the standard library's ways.

Each figure is the best of five rounds of ``calls`` calls, in ns per call: ``copier`` vs
``copy.copy``, a loop over the slots' setters and ``dataclasses.replace`` for an ``Order``;
``maker`` vs the dataclass ``__init__`` for an ``OrderEvent`` (it has a ``__post_init__``).
"""

from __future__ import annotations

import copy
import dataclasses
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from stockyard.core import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    copier,
    maker,
)

__all__ = ["run_frozen_benchmark"]

_AT = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def _slot_loop(cls: type[Order]) -> Callable[[Order], Order]:
    names = [f.name for f in dataclasses.fields(cls)]
    pairs = [(vars(cls)[n].__set__, vars(cls)[n].__get__) for n in names]

    def copy_(value: Order) -> Order:
        new = object.__new__(cls)
        for put, get in pairs:
            put(new, get(value))
        return new

    return copy_


def run_frozen_benchmark(*, calls: int = 200_000) -> dict[str, Any]:
    """ns per call of each way to copy an ``Order`` and to make an ``OrderEvent``."""
    order = Order(
        id="o1", client_order_id="c1", symbol="AAPL", side=OrderSide.BUY, type=OrderType.LIMIT,
        time_in_force=TimeInForce.DAY, status=OrderStatus.NEW, created_at=_AT, updated_at=_AT,
        qty=Decimal(10), limit_price=Decimal("100.5"),
    )  # fmt: skip
    event: dict[str, Any] = {
        "client_order_id": "c1", "kind": OrderEventKind.UPDATE, "status": OrderStatus.NEW,
        "timestamp": _AT, "broker_order_id": "b1", "filled_qty": Decimal(0),
    }  # fmt: skip
    copy_order, loop_order, make_event = copier(Order), _slot_loop(Order), maker(OrderEvent)

    def ns(call: Callable[[], object]) -> float:
        return round(min(timeit.repeat(call, number=calls, repeat=5)) / calls * 1e9, 1)

    return {
        "calls": calls,
        "order_copy_generated_ns": ns(lambda: copy_order(order)),
        "order_copy_slot_loop_ns": ns(lambda: loop_order(order)),
        "order_copy_copy_copy_ns": ns(lambda: copy.copy(order)),
        "order_copy_replace_ns": ns(lambda: dataclasses.replace(order)),
        "event_make_generated_ns": ns(lambda: make_event(**event)),
        "event_make_dataclass_init_ns": ns(lambda: OrderEvent(**event)),
    }
