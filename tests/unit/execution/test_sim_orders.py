"""Order life cycle: cancel, replace, bracket/OCO/OTO legs, rejections, queries, closing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sim_desk import LIMIT, Desk

from stockyard.core import OrderClass, OrderRequest, OrderSide, OrderType, TimeInForce
from stockyard.execution import (
    ExchangeError,
    InvalidRequestError,
    NotCancelableError,
    OrderNotFoundError,
    PositionNotFoundError,
    UnknownSymbolError,
)


def test_cancel_ends_an_open_order_and_a_second_cancel_is_refused(desk: Desk) -> None:
    order = desk.buy("10", type=LIMIT, limit_price=Decimal("90"))
    canceled = desk.exchange.cancel("acct", order)
    assert (canceled.status.value, canceled.canceled_at) == ("canceled", desk.clock.now)
    with pytest.raises(NotCancelableError) as caught:
        desk.exchange.cancel("acct", order)
    assert (caught.value.code, caught.value.message) == (
        422,
        'order is already in "canceled" state',
    )
    with pytest.raises(OrderNotFoundError):
        desk.exchange.cancel("acct", "no-such-order")


def test_replace_ends_the_old_order_replaced_and_links_the_new_one(desk: Desk) -> None:
    old = desk.buy("10", type=LIMIT, limit_price=Decimal("90"), client_order_id="first")
    new = desk.exchange.replace(
        "acct", old, qty=Decimal("20"), limit_price=Decimal("95"), client_order_id="second"
    )
    before = desk.exchange.get_order("acct", old)
    assert (before.status.value, before.replaced_by) == ("replaced", new.id)
    assert (new.replaces, new.qty, new.limit_price, new.client_order_id) == (
        old,
        Decimal("20"),
        Decimal("95"),
        "second",
    )
    assert desk.names() == ["new", "replaced", "new"]
    desk.bar(96, 96, 94.5, 95)
    assert desk.status(new.id) == "filled"


def test_replace_refuses_fields_the_order_type_does_not_take(desk: Desk) -> None:
    order = desk.buy("10", type=LIMIT, limit_price=Decimal("90"))
    with pytest.raises(InvalidRequestError, match="stop_price is only for"):
        desk.exchange.replace("acct", order, stop_price=Decimal("80"))


def test_bracket_legs_wait_for_the_entry_and_a_take_profit_cancels_the_stop(desk: Desk) -> None:
    entry = desk.buy(
        "10",
        type=LIMIT,
        limit_price=Decimal("99"),
        order_class=OrderClass.BRACKET,
        take_profit_limit_price=Decimal("105"),
        stop_loss_stop_price=Decimal("95"),
    )
    tp, sl = desk.exchange.get_order("acct", entry).legs
    assert (tp.status.value, sl.status.value) == ("held", "held")
    assert (tp.side, tp.type, sl.type) == (OrderSide.SELL, OrderType.LIMIT, OrderType.STOP)
    desk.bar(100, 106, 99.5, 100)  # would hit the take-profit, but the entry is not filled
    assert desk.status(tp.id) == "held"
    desk.bar(99.5, 100, 98.5, 99)  # entry fills at 99; the legs start work
    assert (desk.status(entry), desk.status(tp.id), desk.status(sl.id)) == (
        "filled",
        "new",
        "new",
    )
    desk.bar(103, 105.5, 102, 105)
    assert (desk.status(tp.id), desk.status(sl.id)) == ("filled", "canceled")
    assert desk.exchange.positions("acct") == []
    assert desk.exchange.account("acct").cash == Decimal("100000") + Decimal("60")


def test_when_both_bracket_legs_could_fill_in_one_bar_the_stop_loss_wins(desk: Desk) -> None:
    entry = desk.buy(
        "10",
        order_class=OrderClass.BRACKET,
        take_profit_limit_price=Decimal("105"),
        stop_loss_stop_price=Decimal("95"),
    )
    desk.bar(100, 100, 100, 100)
    tp, sl = desk.exchange.get_order("acct", entry).legs
    desk.bar(100, 106, 94, 100)
    assert (desk.status(tp.id), desk.status(sl.id)) == ("canceled", "filled")


def test_an_oco_works_both_exits_at_once_and_one_fill_cancels_the_other(desk: Desk) -> None:
    desk.buy("10")
    desk.bar(100, 100, 100, 100)
    parent = desk.exchange.submit(
        "acct",
        OrderRequest(
            symbol="AAPL",
            side=OrderSide.SELL,
            qty=Decimal("10"),
            type=OrderType.LIMIT,
            limit_price=Decimal("110"),
            order_class=OrderClass.OCO,
            stop_loss_stop_price=Decimal("95"),
        ),
    )
    (stop,) = parent.legs
    assert (parent.status.value, stop.status.value) == ("new", "new")
    desk.bar(96, 97, 94, 95)
    assert (desk.status(stop.id), desk.status(parent.id)) == ("filled", "canceled")
    assert desk.exchange.get_order("acct", stop.id).filled_avg_price == Decimal("95")


def test_an_oto_entry_activates_its_one_leg(desk: Desk) -> None:
    entry = desk.buy("10", order_class=OrderClass.OTO, stop_loss_stop_price=Decimal("90"))
    (leg,) = desk.exchange.get_order("acct", entry).legs
    desk.bar(100, 100, 100, 100)
    assert (desk.status(entry), desk.status(leg.id)) == ("filled", "new")


def test_canceling_a_bracket_before_its_entry_fills_cancels_the_held_legs(desk: Desk) -> None:
    entry = desk.buy(
        "10",
        type=LIMIT,
        limit_price=Decimal("90"),
        order_class=OrderClass.BRACKET,
        take_profit_limit_price=Decimal("105"),
        stop_loss_stop_price=Decimal("85"),
    )
    desk.exchange.cancel("acct", entry)
    assert [leg.status.value for leg in desk.exchange.get_order("acct", entry).legs] == [
        "canceled",
        "canceled",
    ]


def test_a_bracket_with_a_take_profit_below_the_entry_is_refused(desk: Desk) -> None:
    with pytest.raises(InvalidRequestError, match=r"take_profit.limit_price must be >="):
        desk.buy(
            "10",
            order_class=OrderClass.BRACKET,
            take_profit_limit_price=Decimal("99"),
            stop_loss_stop_price=Decimal("95"),
        )


def test_a_duplicate_client_order_id_is_rejected_and_nothing_changes(desk: Desk) -> None:
    desk.buy("1", client_order_id="mine")
    before = desk.exchange.snapshot()
    with pytest.raises(InvalidRequestError) as caught:
        desk.buy("1", client_order_id="mine")
    assert (caught.value.code, caught.value.message) == (422, "client_order_id must be unique")
    assert desk.exchange.snapshot() == before


def test_an_unknown_or_untradable_symbol_is_a_422(desk: Desk) -> None:
    from stockyard.execution import Asset

    with pytest.raises(UnknownSymbolError) as caught:
        desk.buy("1", symbol="XYZ")
    assert (caught.value.code, caught.value.message) == (422, 'asset "XYZ" not found')
    desk.exchange.add_asset(Asset.stock("OLD", tradable=False))
    with pytest.raises(UnknownSymbolError, match="not tradable"):
        desk.buy("1", symbol="OLD")
    with pytest.raises(UnknownSymbolError) as lookup:
        desk.exchange.asset("XYZ")
    assert lookup.value.code == 404


def test_orders_are_found_by_client_id_and_listed_as_alpaca_filters_them(desk: Desk) -> None:
    first = desk.buy("1", type=LIMIT, limit_price=Decimal("90"), client_order_id="a")
    desk.clock.tick()
    second = desk.buy("1", client_order_id="b")
    desk.bar(100, 100, 100, 100)
    assert desk.exchange.get_order_by_client_id("acct", "b").id == second
    ex = desk.exchange
    assert [o.id for o in ex.list_orders("acct")] == [first]
    assert [o.id for o in ex.list_orders("acct", status="closed")] == [second]
    assert [o.id for o in ex.list_orders("acct", status="all")] == [second, first]
    assert [o.id for o in ex.list_orders("acct", status="all", direction="asc", limit=1)] == [first]
    assert ex.list_orders("acct", status="all", symbols=["BTC/USD"]) == []


def test_nested_listing_puts_legs_inside_their_parent(desk: Desk) -> None:
    desk.buy("10", order_class=OrderClass.OTO, take_profit_limit_price=Decimal("110"))
    flat = desk.exchange.list_orders("acct", status="all")
    nested = desk.exchange.list_orders("acct", status="all", nested=True)
    assert len(flat) == 2
    assert [len(o.legs) for o in nested] == [1]


def test_cancel_all_answers_one_result_per_order(desk: Desk) -> None:
    a = desk.buy("1", type=LIMIT, limit_price=Decimal("90"))
    b = desk.sell("1", type=LIMIT, limit_price=Decimal("110"))
    results = desk.exchange.cancel_all("acct")
    assert [(r.order_id, r.status) for r in results] == [(a, 200), (b, 200)]
    assert desk.exchange.list_orders("acct") == []


def test_close_position_sells_all_or_part_and_a_missing_position_is_a_404(desk: Desk) -> None:
    desk.buy("10")
    desk.bar(100, 100, 100, 100)
    half = desk.exchange.close_position("acct", "AAPL", percentage=Decimal("50"))
    assert (half.side, half.qty) == (OrderSide.SELL, Decimal("5.000000000"))
    desk.bar(101, 101, 101, 101)
    assert desk.exchange.position("acct", "AAPL").qty == Decimal("5")
    results = desk.exchange.close_all("acct")
    desk.bar(102, 102, 102, 102)
    assert [(r.symbol, r.status) for r in results] == [("AAPL", 200)]
    with pytest.raises(PositionNotFoundError) as caught:
        desk.exchange.position("acct", "AAPL")
    assert caught.value.code == 404


def test_a_notional_buy_fills_the_fractional_quantity_the_money_buys(desk: Desk) -> None:
    order = desk.exchange.submit(
        "acct", OrderRequest(symbol="AAPL", side=OrderSide.BUY, notional=Decimal("250"))
    )
    assert (order.qty, order.notional) == (None, Decimal("250"))
    desk.bar(80, 80, 80, 80)
    filled = desk.exchange.get_order("acct", order.id)
    assert (filled.qty, filled.filled_qty, filled.filled_avg_price) == (
        Decimal("3.125000000"),
        Decimal("3.125000000"),
        Decimal("80"),
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"symbol": "WHOLE"}, 'asset "WHOLE" is not fractionable'),
        ({"type": OrderType.LIMIT, "limit_price": Decimal("90")}, "must be market orders"),
        ({"time_in_force": TimeInForce.GTC}, "fractional orders must be DAY orders"),
    ],
)
def test_fractional_orders_follow_alpacas_rules(
    desk: Desk, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        desk.buy("0.5", **fields)


def test_sub_penny_prices_are_refused(desk: Desk) -> None:
    with pytest.raises(ExchangeError, match="sub-penny increment"):
        desk.buy("1", type=LIMIT, limit_price=Decimal("99.123"))
