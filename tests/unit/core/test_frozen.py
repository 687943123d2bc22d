"""``core.maker`` and ``core.copier``: the order path's cheap constructors and copies make the
very values the classes do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stockyard.core import (
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    copier,
    maker,
)
from stockyard.execution.oms import ManagedOrder, OrderPhase
from stockyard.execution.sim import TradeEvent, TradeUpdate

_AT = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def _order_fields() -> dict[str, object]:
    return {
        "id": "o-1",
        "client_order_id": "s-1",
        "symbol": "AAPL",
        "side": OrderSide.BUY,
        "type": OrderType.LIMIT,
        "time_in_force": TimeInForce.DAY,
        "status": OrderStatus.NEW,
        "created_at": _AT,
        "updated_at": _AT,
        "qty": Decimal(100),
        "limit_price": Decimal("101.25"),
    }


def test_a_made_order_equals_the_constructed_one_defaults_included() -> None:
    made = maker(Order)(**_order_fields())
    built = Order(**_order_fields())  # type: ignore[arg-type]  # the fields, as a dict
    assert made == built
    assert made.filled_qty == Decimal(0)
    assert made.legs == ()
    assert made.hwm is None
    assert type(made) is Order


def test_a_made_value_runs_the_classes_own_validation() -> None:
    naive = {**_order_fields(), "created_at": datetime(2024, 1, 2, 14, 30)}
    with pytest.raises(ValueError, match="created_at must be timezone-aware"):
        maker(Order)(**naive)
    with pytest.raises(ValueError, match="qty must be a finite number > 0"):
        maker(Fill)(
            id="f",
            order_id="o",
            client_order_id="c",
            symbol="AAPL",
            side=OrderSide.SELL,
            qty=Decimal(0),
            price=Decimal(1),
            timestamp=_AT,
        )


def test_missing_and_unknown_fields_are_type_errors_as_with_the_class() -> None:
    make = maker(TradeUpdate)
    with pytest.raises(TypeError):
        make(event=TradeEvent.NEW, timestamp=_AT, account_id="a")  # no order
    with pytest.raises(TypeError):
        make(
            event=TradeEvent.NEW,
            order=maker(Order)(**_order_fields()),
            timestamp=_AT,
            account_id="a",
            colour="red",
        )


def test_a_made_value_is_as_frozen_as_the_class_makes_it() -> None:
    view = maker(ManagedOrder)(
        client_order_id="s-1",
        strategy_id="s",
        sequence=1,
        request=None,
        phase=OrderPhase.PENDING,
        status=None,
        broker_order_id=None,
        filled_qty=Decimal(0),
        filled_avg_price=None,
        created_at=_AT,
        updated_at=_AT,
    )
    with pytest.raises(AttributeError):
        view.detail = "changed"  # type: ignore[misc]  # frozen: the point of the test
    assert view.order is None
    assert view.detail is None


def test_classes_it_cannot_copy_safely_are_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Shared:
        items: list[int] = field(default_factory=list)

    @dataclass(slots=True)
    class Mutable:
        x: int

    @dataclass(frozen=True)
    class Unslotted:
        x: int

    with pytest.raises(TypeError, match="default_factory"):
        maker(Shared)
    for cls in (Mutable, Unslotted):
        with pytest.raises(TypeError, match="not a frozen, slotted dataclass"):
            maker(cls)


def test_a_copy_is_equal_to_the_original_and_a_new_object() -> None:
    order = Order(**_order_fields())  # type: ignore[arg-type]
    copy = copier(Order)(order)
    assert copy == order
    assert copy is not order


def test_copier_refuses_a_class_that_is_not_a_frozen_slotted_dataclass() -> None:
    @dataclass(frozen=True)
    class Loose:
        x: int

    with pytest.raises(TypeError, match="not a frozen, slotted dataclass"):
        copier(Loose)
