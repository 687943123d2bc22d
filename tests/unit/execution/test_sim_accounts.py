"""Buying power, margin, short-selling and the pattern-day-trader rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sim_desk import LIMIT, Desk, make_desk

from stockyard.core import OrderRequest, OrderSide, TimeInForce
from stockyard.execution import ExchangeError, ForbiddenError


def _desk(cash: str, multiplier: int) -> Desk:
    desk = make_desk(cash=cash, multiplier=multiplier)
    desk.bar(100, 100, 100, 100, advance=False)
    desk.bar(60_000, 60_000, 60_000, 60_000, symbol="BTC/USD", advance=False)
    return desk


def test_a_cash_account_buys_only_what_its_cash_pays_for() -> None:
    desk = _desk("1000", multiplier=1)
    with pytest.raises(ForbiddenError) as caught:
        desk.buy("11")
    assert (caught.value.code, caught.value.message) == (403, "insufficient buying power")
    desk.buy("10")
    assert desk.exchange.account("acct").buying_power == 0


def test_open_buy_orders_reserve_buying_power_until_they_end() -> None:
    desk = _desk("1000", multiplier=1)
    order = desk.buy("5", type=LIMIT, limit_price=Decimal("100"))
    assert desk.exchange.account("acct").buying_power == Decimal("500")
    desk.exchange.cancel("acct", order)
    assert desk.exchange.account("acct").buying_power == Decimal("1000")


def test_a_margin_account_buys_its_equity_times_the_multiplier() -> None:
    desk = _desk("1000", multiplier=2)
    assert desk.exchange.account("acct").buying_power == Decimal("2000")
    desk.buy("20")
    desk.bar(100, 100, 100, 100)
    account = desk.exchange.account("acct")
    assert (account.cash, account.equity, account.buying_power) == (
        Decimal("-1000"),
        Decimal("1000"),
        Decimal("0"),
    )


def test_selling_short_a_non_shortable_asset_is_insufficient_qty() -> None:
    desk = _desk("10000", multiplier=2)
    with pytest.raises(ForbiddenError) as caught:
        desk.sell("5", symbol="HTB")
    assert (caught.value.code, caught.value.message) == (
        403,
        "insufficient qty available for order (requested: 5, available: 0)",
    )


def test_a_margin_account_may_short_an_easy_to_borrow_stock() -> None:
    desk = _desk("10000", multiplier=2)
    desk.sell("5")
    desk.bar(100, 100, 100, 100)
    position = desk.exchange.position("acct", "AAPL")
    account = desk.exchange.account("acct")
    assert (position.qty, position.side.value) == (Decimal("-5"), "short")
    assert (account.cash, account.short_market_value) == (Decimal("10500"), Decimal("-500"))


def test_a_cash_account_and_crypto_never_sell_short() -> None:
    desk = _desk("10000", multiplier=1)
    with pytest.raises(ForbiddenError, match="insufficient qty available"):
        desk.sell("1")
    crypto = OrderRequest(
        symbol="BTC/USD", side=OrderSide.SELL, qty=Decimal("0.01"), time_in_force=TimeInForce.GTC
    )
    with pytest.raises(ForbiddenError, match="insufficient qty available"):
        desk.exchange.submit("acct", crypto)


def test_shares_held_by_an_open_sell_are_not_available_to_another() -> None:
    desk = _desk("10000", multiplier=1)
    desk.buy("10")
    desk.bar(100, 100, 100, 100)
    desk.sell("10", type=LIMIT, limit_price=Decimal("120"))
    with pytest.raises(ForbiddenError, match=r"requested: 1, available: 0"):
        desk.sell("1")


def test_crypto_is_bought_with_cash_never_margin() -> None:
    desk = _desk("1000", multiplier=2)
    request = OrderRequest(
        symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.02"), time_in_force=TimeInForce.GTC
    )
    with pytest.raises(ForbiddenError, match="insufficient buying power"):
        desk.exchange.submit("acct", request)  # 1,200 > 1,000 cash though margin gives 2,000


def test_four_day_trades_flag_a_small_account_and_further_day_trades_are_refused() -> None:
    desk = _desk("20000", multiplier=2)
    for _ in range(4):
        desk.buy("10")
        desk.bar(100, 100, 100, 100)
        desk.sell("10")
        desk.bar(100, 100, 100, 100)
    account = desk.exchange.account("acct")
    assert (account.daytrade_count, account.pattern_day_trader) == (4, True)
    desk.buy("10")
    desk.bar(100, 100, 100, 100)
    with pytest.raises(ForbiddenError) as caught:
        desk.sell("10")
    assert caught.value.message == "trade denied due to pattern day trading protection"


def test_an_account_over_25k_is_never_flagged() -> None:
    desk = _desk("30000", multiplier=2)
    for _ in range(5):
        desk.buy("10")
        desk.bar(100, 100, 100, 100)
        desk.sell("10")
        desk.bar(100, 100, 100, 100)
    account = desk.exchange.account("acct")
    assert (account.daytrade_count, account.pattern_day_trader) == (5, False)


@pytest.mark.parametrize(
    "bad",
    [
        {"qty": "1000"},  # buying power
        {"qty": "1", "symbol": "XYZ"},  # unknown symbol
        {"qty": "1", "side": OrderSide.SELL, "symbol": "HTB"},  # not shortable
        {"qty": "1", "extended_hours": True},  # extended hours market order
        {"qty": "1", "client_order_id": "taken"},  # duplicate id
    ],
)
def test_a_rejected_order_leaves_orders_positions_and_cash_exactly_as_before(
    bad: dict[str, object],
) -> None:
    desk = _desk("10000", multiplier=1)
    desk.buy("1", client_order_id="taken")
    desk.bar(100, 100, 100, 100)
    before, events = desk.exchange.snapshot(), len(desk.events)
    side = bad.pop("side", OrderSide.BUY)
    qty = str(bad.pop("qty"))
    with pytest.raises(ExchangeError):
        desk.submit(side, qty, **bad)  # type: ignore[arg-type]
    assert desk.exchange.snapshot() == before
    assert len(desk.events) == events
