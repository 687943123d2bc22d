"""``OrderRequest``: validation where it is made, and numbering a request without remaking it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from stockyard.core import OrderClass, OrderRequest, OrderSide, OrderType, TimeInForce


def bracket() -> OrderRequest:
    return OrderRequest(
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(5),
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal("100.5"),
        order_class=OrderClass.BRACKET,
        take_profit_limit_price=Decimal(110),
        stop_loss_stop_price=Decimal(95),
    )


def test_with_client_order_id_equals_replace_and_leaves_the_original_alone() -> None:
    request = bracket()
    numbered = request.with_client_order_id("bot-7")
    assert numbered == dataclasses.replace(request, client_order_id="bot-7")
    assert numbered.client_order_id == "bot-7"
    assert request.client_order_id is None


@pytest.mark.parametrize("bad", ["", "x" * 129])
def test_with_client_order_id_refuses_an_id_replace_would_refuse(bad: str) -> None:
    request = bracket()
    with pytest.raises(ValueError, match="client_order_id must be 1 to 128 characters"):
        request.with_client_order_id(bad)
    with pytest.raises(ValueError, match="client_order_id must be 1 to 128 characters"):
        dataclasses.replace(request, client_order_id=bad)
    assert request.client_order_id is None


def test_amounts_given_as_numbers_become_exact_decimals() -> None:
    request = OrderRequest(
        symbol="AAPL", side=OrderSide.SELL, qty=0.1, type=OrderType.LIMIT, limit_price="99.5"
    )  # type: ignore[arg-type]
    assert request.qty == Decimal("0.1")
    assert request.limit_price == Decimal("99.5")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"qty": Decimal(-1)}, "qty must be a finite number > 0, got -1"),
        ({"qty": Decimal("NaN")}, "qty must be a finite number > 0"),
        ({"qty": "abc"}, "qty must be a number"),
        ({"qty": Decimal(1), "limit_price": 0}, "limit_price must be a finite number > 0, got 0"),
        ({"qty": None}, "give exactly one of qty or notional"),
    ],
)
def test_a_bad_amount_is_refused_with_its_name(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrderRequest(symbol="AAPL", side=OrderSide.BUY, **fields)  # type: ignore[arg-type]
