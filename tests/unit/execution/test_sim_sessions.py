"""The market clock: closed-market orders wait, day orders expire, opg/cls, extended hours."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sim_desk import LIMIT, Desk, make_desk

from stockyard.core import Bar, OrderRequest, OrderSide, TimeInForce
from stockyard.data import MarketCalendar
from stockyard.execution import InvalidRequestError

# Monday 1 July 2024, 20:30 New York: after the post-market; Tuesday opens at 13:30 UTC.
NIGHT = datetime(2024, 7, 2, 0, 30, tzinfo=UTC)
TUESDAY_OPEN = datetime(2024, 7, 2, 13, 30, tzinfo=UTC)
TUESDAY_CLOSE = datetime(2024, 7, 2, 20, 0, tzinfo=UTC)


def _bar(desk: Desk, at: datetime, price: float, symbol: str = "AAPL") -> None:
    desk.clock.now = at
    desk.exchange.on_bar(Bar(symbol, at, price, price, price, price, 1_000_000))


def test_an_order_sent_while_closed_is_accepted_and_waits_for_the_first_bar_of_the_session() -> (
    None
):
    desk = make_desk(now=NIGHT)
    order = desk.buy("10")
    assert desk.status(order) == "accepted"
    _bar(desk, datetime(2024, 7, 2, 12, 0, tzinfo=UTC), 99)  # pre-market print: not for it
    assert desk.status(order) == "accepted"
    _bar(desk, TUESDAY_OPEN, 101)
    assert desk.status(order) == "filled"
    assert desk.exchange.get_order("acct", order).filled_avg_price == Decimal("101")
    assert desk.names() == ["accepted", "new", "fill"]


def test_day_orders_expire_at_the_close_and_gtc_orders_stay(desk: Desk) -> None:
    day = desk.buy("10", type=LIMIT, limit_price=Decimal("90"))
    gtc = desk.buy("10", type=LIMIT, limit_price=Decimal("90"), time_in_force=TimeInForce.GTC)
    desk.exchange.advance(TUESDAY_CLOSE)
    view = desk.exchange.get_order("acct", day)
    assert (view.status.value, view.expired_at) == ("expired", TUESDAY_CLOSE)
    assert desk.status(gtc) == "new"
    assert desk.names()[-1] == "expired"


def test_an_opg_order_fills_at_the_opening_price_and_is_refused_once_open() -> None:
    desk = make_desk(now=NIGHT)
    order = desk.buy("10", time_in_force=TimeInForce.OPG)
    _bar(desk, TUESDAY_OPEN, 101.25)
    assert desk.exchange.get_order("acct", order).filled_avg_price == Decimal("101.25")
    with pytest.raises(InvalidRequestError, match="before the market opens"):
        desk.buy("10", time_in_force=TimeInForce.OPG)


def test_an_unfilled_opg_limit_is_canceled_after_the_opening_price() -> None:
    desk = make_desk(now=NIGHT)
    order = desk.buy("10", type=LIMIT, limit_price=Decimal("95"), time_in_force=TimeInForce.OPG)
    _bar(desk, TUESDAY_OPEN, 101)
    assert desk.status(order) == "canceled"


def test_a_cls_order_fills_at_the_last_price_of_the_session(desk: Desk) -> None:
    order = desk.buy("10", time_in_force=TimeInForce.CLS)
    _bar(desk, datetime(2024, 7, 2, 19, 59, tzinfo=UTC), 102.5)
    assert desk.status(order) == "new"
    desk.exchange.advance(TUESDAY_CLOSE)
    view = desk.exchange.get_order("acct", order)
    assert (view.filled_avg_price, view.filled_at) == (Decimal("102.5"), TUESDAY_CLOSE)


def test_extended_hours_orders_must_be_day_limit_orders(desk: Desk) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        desk.buy("10", extended_hours=True)
    assert (caught.value.code, caught.value.message) == (
        422,
        "extended hours order must be DAY limit orders",
    )


def test_an_extended_hours_limit_trades_in_the_post_market_and_expires_at_eight(
    desk: Desk,
) -> None:
    plain = desk.buy("5", type=LIMIT, limit_price=Decimal("99"))
    extended = desk.buy("5", type=LIMIT, limit_price=Decimal("99"), extended_hours=True)
    late = desk.buy("5", type=LIMIT, limit_price=Decimal("50"), extended_hours=True)
    _bar(desk, datetime(2024, 7, 2, 21, 30, tzinfo=UTC), 98)  # 17:30 New York
    assert desk.status(plain) == "expired"
    assert desk.status(extended) == "filled"
    desk.exchange.advance(datetime(2024, 7, 3, 0, 0, tzinfo=UTC))  # 20:00 New York
    assert desk.status(late) == "expired"


def test_crypto_trades_around_the_clock_and_takes_only_gtc_or_ioc() -> None:
    desk = make_desk(now=NIGHT)
    order = desk.exchange.submit(
        "acct",
        OrderRequest(
            symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.5"), time_in_force=TimeInForce.GTC
        ),
    )
    assert order.status.value == "new"
    _bar(desk, datetime(2024, 7, 2, 1, 0, tzinfo=UTC), 60_000, symbol="BTC/USD")
    assert desk.status(order.id) == "filled"
    with pytest.raises(InvalidRequestError, match="invalid crypto time_in_force"):
        desk.exchange.submit(
            "acct", OrderRequest(symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.5"))
        )
    assert desk.exchange.is_open("BTC/USD")
    assert not desk.exchange.is_open("AAPL")


def test_the_nyse_calendar_knows_holidays_and_half_days() -> None:
    calendar = MarketCalendar.nyse()
    assert calendar.session_bounds(date(2024, 7, 4)) is None
    assert calendar.session_bounds(date(2024, 7, 3)) == (
        datetime(2024, 7, 3, 13, 30, tzinfo=UTC),
        datetime(2024, 7, 3, 17, 0, tzinfo=UTC),
    )
    assert calendar.next_open(datetime(2024, 7, 3, 18, 0, tzinfo=UTC)) == datetime(
        2024, 7, 5, 13, 30, tzinfo=UTC
    )
    assert [d for d, _, _ in calendar.sessions(date(2024, 7, 1), date(2024, 7, 7))] == [
        date(2024, 7, 1),
        date(2024, 7, 2),
        date(2024, 7, 3),
        date(2024, 7, 5),
    ]
    assert MarketCalendar.always_open().is_open(NIGHT)
