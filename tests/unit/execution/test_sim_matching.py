"""Fill conventions against bars, trades and quotes (docs/matching.md), hand-computed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sim_desk import LIMIT, Desk, make_desk

from stockyard.core import Bar, OrderType, Quote, TimeInForce, Trade
from stockyard.execution import ExchangeConfig


def _fill_price(desk: Desk, order_id: str) -> Decimal | None:
    return desk.exchange.get_order("acct", order_id).filled_avg_price


def test_a_market_order_fills_at_the_next_bars_open_never_the_bar_it_saw(desk: Desk) -> None:
    order = desk.buy("10")
    assert desk.status(order) == "new"
    desk.bar(101.5, 102, 101, 101.8)
    assert _fill_price(desk, order) == Decimal("101.5")
    assert desk.exchange.account("acct").cash == Decimal("100000") - Decimal("1015")
    assert desk.names() == ["new", "fill"]


def test_a_bar_stamped_before_the_submission_never_fills_it(desk: Desk) -> None:
    desk.clock.tick(timedelta(seconds=30))
    order = desk.buy("10")
    stale = desk.clock.now - timedelta(seconds=30)
    desk.exchange.on_bar(Bar("AAPL", stale, 90, 91, 89, 90, 1000))
    assert desk.status(order) == "new"
    desk.bar(100.2, 100.5, 100, 100.1)
    assert _fill_price(desk, order) == Decimal("100.2")


def test_a_limit_buy_fills_at_the_limit_when_the_range_touches_it(desk: Desk) -> None:
    order = desk.buy("10", type=LIMIT, limit_price=Decimal("99.50"))
    desk.bar(100, 100.4, 99.6, 100)
    assert desk.status(order) == "new"
    desk.bar(100, 100.2, 99.5, 99.9)
    assert _fill_price(desk, order) == Decimal("99.50")


def test_a_limit_buy_fills_at_the_open_when_the_bar_opens_through_it(desk: Desk) -> None:
    order = desk.buy("10", type=LIMIT, limit_price=Decimal("99.50"))
    desk.bar(98.7, 99.2, 98.5, 99)
    assert _fill_price(desk, order) == Decimal("98.7")


def test_the_through_convention_needs_the_range_to_pass_the_limit() -> None:
    desk = make_desk(config=ExchangeConfig(limit_fill="through"))
    desk.bar(100, 100, 100, 100, advance=False)
    order = desk.sell("5", type=LIMIT, limit_price=Decimal("101"))
    desk.bar(100, 101, 99.8, 100.5)
    assert desk.status(order) == "new"
    desk.bar(100.5, 101.01, 100.4, 100.9)
    assert _fill_price(desk, order) == Decimal("101")


def test_a_sell_stop_triggers_at_the_stop_or_at_the_open_when_gapped_through(desk: Desk) -> None:
    desk.buy("20")
    desk.bar(100, 100, 100, 100)
    at_stop = desk.sell("10", type=OrderType.STOP, stop_price=Decimal("98"))
    gapped = desk.sell("10", type=OrderType.STOP, stop_price=Decimal("97"))
    desk.bar(99, 99.5, 97.5, 98)  # reaches 98 only
    assert _fill_price(desk, at_stop) == Decimal("98")
    assert desk.status(gapped) == "new"
    desk.bar(95, 96, 94, 95.5)  # opens below 97
    assert _fill_price(desk, gapped) == Decimal("95")


def test_a_triggered_stop_limit_rests_as_a_limit_until_its_price_comes(desk: Desk) -> None:
    order = desk.buy(
        "10", type=OrderType.STOP_LIMIT, stop_price=Decimal("101"), limit_price=Decimal("101.5")
    )
    desk.bar(102, 103, 101.8, 102.5)  # triggers (gapped above the stop) but never reaches 101.5
    assert desk.status(order) == "new"
    desk.bar(102, 102.2, 101.2, 101.4)
    assert _fill_price(desk, order) == Decimal("101.5")


def test_a_trailing_stop_follows_the_high_water_mark_and_fills_at_mark_minus_trail(
    desk: Desk,
) -> None:
    desk.buy("10")
    desk.bar(100, 100, 100, 100)
    order = desk.sell("10", type=OrderType.TRAILING_STOP, trail_price=Decimal("2"))
    desk.bar(100, 105, 99.5, 104)  # mark 100 -> stop 98 not hit; mark rises to 105
    view = desk.exchange.get_order("acct", order)
    assert (view.hwm, view.stop_price) == (Decimal("105"), Decimal("103"))
    desk.bar(104, 104.5, 102.5, 103)  # stop 103 reached
    assert _fill_price(desk, order) == Decimal("103")


def test_a_trailing_percent_buy_stop_tracks_the_low(desk: Desk) -> None:
    order = desk.buy("10", type=OrderType.TRAILING_STOP, trail_percent=Decimal("5"))
    desk.bar(100, 100.5, 90, 91)  # low-water mark 90 -> stop 94.5
    assert desk.status(order) == "new"
    desk.bar(93, 95, 92.5, 94.8)
    assert _fill_price(desk, order) == Decimal("94.5")


def test_against_quotes_buys_pay_the_ask_and_sells_receive_the_bid(desk: Desk) -> None:
    buy = desk.buy("10")
    sell = desk.sell("5")
    desk.exchange.on_quote(Quote("AAPL", desk.clock.tick(), 99.98, 300, 100.02, 200))
    assert _fill_price(desk, buy) == Decimal("100.02")
    assert _fill_price(desk, sell) == Decimal("99.98")


def test_against_a_trade_a_resting_limit_fills_when_the_print_reaches_it(desk: Desk) -> None:
    order = desk.buy("10", type=LIMIT, limit_price=Decimal("99"))
    desk.exchange.on_trade(Trade("AAPL", desk.clock.tick(), 99.5, 100))
    assert desk.status(order) == "new"
    desk.exchange.on_trade(Trade("AAPL", desk.clock.tick(), 98.9, 100))
    assert _fill_price(desk, order) == Decimal("98.9")


def test_participation_splits_a_fill_across_bars_with_partial_fill_events() -> None:
    desk = make_desk(config=ExchangeConfig(participation=0.1))
    desk.bar(100, 100, 100, 100, advance=False)
    order = desk.buy("250")
    desk.bar(100, 100, 100, 100, volume=1000)
    desk.bar(101, 101, 101, 101, volume=1000)
    desk.bar(102, 102, 102, 102, volume=500)
    final = desk.exchange.get_order("acct", order)
    assert desk.names() == ["new", "partial_fill", "partial_fill", "fill"]
    assert [e.qty for e in desk.events[1:]] == [Decimal(100), Decimal(100), Decimal(50)]
    assert final.filled_avg_price == Decimal("100.8")  # (10000 + 10100 + 5100) / 250


def test_ioc_fills_what_it_can_now_and_cancels_the_rest() -> None:
    desk = make_desk(config=ExchangeConfig(participation=0.1))
    desk.bar(100, 100, 100, 100, advance=False)
    order = desk.buy("250", time_in_force=TimeInForce.IOC)
    desk.bar(100, 100, 100, 100, volume=1000)
    view = desk.exchange.get_order("acct", order)
    assert (view.status.value, view.filled_qty) == ("canceled", Decimal(100))


def test_fok_fills_all_at_once_or_nothing() -> None:
    desk = make_desk(config=ExchangeConfig(participation=0.1))
    desk.bar(100, 100, 100, 100, advance=False)
    too_big = desk.buy("250", time_in_force=TimeInForce.FOK)
    fits = desk.buy("50", time_in_force=TimeInForce.FOK)
    desk.bar(100, 100, 100, 100, volume=1000)
    assert desk.exchange.get_order("acct", too_big).filled_qty == 0
    assert desk.status(too_big) == "canceled"
    assert desk.status(fits) == "filled"


def test_the_close_convention_fills_market_orders_at_the_next_bars_close() -> None:
    desk = make_desk(config=ExchangeConfig(market_price="close"))
    desk.bar(100, 100, 100, 100, advance=False)
    order = desk.buy("1")
    desk.bar(100, 101, 99, 100.7)
    assert _fill_price(desk, order) == Decimal("100.7")


def test_a_bar_for_a_symbol_with_nothing_resting_only_moves_the_last_price(desk: Desk) -> None:
    before = desk.exchange.snapshot()
    desk.bar(101, 102, 100, 101.25, advance=False)
    after = desk.exchange.snapshot()
    assert desk.exchange.last_price("AAPL") == Decimal("101.25")
    assert {k: v for k, v in after.items() if k != "last"} == {
        k: v for k, v in before.items() if k != "last"
    }


def test_fill_on_submit_fills_a_marketable_order_at_once_against_the_latest_quote() -> None:
    desk = make_desk(config=ExchangeConfig(fill_on_submit=True))
    desk.exchange.on_quote(Quote("AAPL", desk.clock.now, 99.95, 100, 100.05, 100))
    buy = desk.buy("10")
    resting = desk.buy("10", type=LIMIT, limit_price=Decimal("99"))
    assert _fill_price(desk, buy) == Decimal("100.05")
    assert desk.status(resting) == "new"
    assert desk.names() == ["new", "fill", "new"]
