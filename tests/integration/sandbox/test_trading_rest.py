"""Trading REST v2 through the real alpaca-py ``TradingClient``."""

from __future__ import annotations

import uuid

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import (
    AssetClass,
    OrderClass,
    OrderSide,
    OrderStatus,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetAssetsRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)
from tests.integration.sandbox.conftest import START, Harness


def _market(symbol: str = "AAPL", qty: float = 10, side: OrderSide = OrderSide.BUY,
            tif: TimeInForce = TimeInForce.DAY, **kw: object) -> MarketOrderRequest:  # fmt: skip
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=tif, **kw)


def test_the_account_parses_and_starts_with_the_configured_cash(sandbox: Harness) -> None:
    account = sandbox.trading().get_account()
    assert account.cash == "100000"
    assert account.status == "ACTIVE"
    assert account.currency == "USD"


def test_a_market_order_fills_at_once_and_makes_a_position(sandbox: Harness) -> None:
    client = sandbox.trading()
    order = client.submit_order(_market(client_order_id="first-buy"))
    assert isinstance(order.id, uuid.UUID)
    assert order.client_order_id == "first-buy"
    assert order.asset_class is AssetClass.US_EQUITY
    filled = client.get_order_by_id(order.id)
    assert filled.status is OrderStatus.FILLED
    assert filled.filled_qty == "10"
    assert float(filled.filled_avg_price or 0) > 0
    assert client.get_order_by_client_id("first-buy").id == order.id
    position = client.get_open_position("AAPL")
    assert position.qty == "10"
    assert position.side == "long"
    assert float(client.get_account().cash) < 100_000


@pytest.mark.parametrize("tif", [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC,
                                 TimeInForce.FOK, TimeInForce.CLS])  # fmt: skip
def test_every_time_in_force_is_accepted(sandbox: Harness, tif: TimeInForce) -> None:
    client = sandbox.trading()
    order = client.submit_order(_market(qty=1, tif=tif))
    assert order.time_in_force is tif
    assert client.get_order_by_id(order.id).status in {
        OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.FILLED, OrderStatus.CANCELED,
        OrderStatus.EXPIRED, OrderStatus.PENDING_NEW,
    }  # fmt: skip


def test_an_opg_order_in_the_session_is_refused_as_alpaca_refuses_it(sandbox: Harness) -> None:
    with pytest.raises(APIError) as refused:
        sandbox.trading().submit_order(_market(qty=1, tif=TimeInForce.OPG))
    assert refused.value.status_code == 422
    assert "before the market opens" in str(refused.value)


def test_limit_stop_stop_limit_and_trailing_orders_rest_until_the_price_comes(
    sandbox: Harness,
) -> None:
    client = sandbox.trading()
    last = _price(sandbox)
    orders = [
        LimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY,
                          time_in_force=TimeInForce.GTC, limit_price=round(last * 0.5, 2)),
        StopOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY,
                         time_in_force=TimeInForce.GTC, stop_price=round(last * 1.5, 2)),
        StopLimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY,
                              time_in_force=TimeInForce.GTC, stop_price=round(last * 1.5, 2),
                              limit_price=round(last * 1.6, 2)),
        TrailingStopOrderRequest(symbol="AAPL", qty=1, side=OrderSide.SELL,
                                 time_in_force=TimeInForce.GTC, trail_percent=50),
    ]  # fmt: skip
    client.submit_order(_market(qty=1))  # something to trail against
    placed = [client.submit_order(o) for o in orders]
    assert [o.type.value for o in placed] == ["limit", "stop", "stop_limit", "trailing_stop"]
    open_ids = {o.id for o in client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))}
    assert {o.id for o in placed} <= open_ids
    assert placed[3].trail_percent == "50"


def test_a_bracket_order_carries_its_legs(sandbox: Harness) -> None:
    client = sandbox.trading()
    last = _price(sandbox)
    order = client.submit_order(
        MarketOrderRequest(
            symbol="AAPL", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=round(last * 1.2, 2)),
            stop_loss=StopLossRequest(stop_price=round(last * 0.8, 2)),
        )
    )  # fmt: skip
    assert order.order_class is OrderClass.BRACKET
    again = client.get_order_by_id(order.id)
    assert again.legs is not None
    assert len(again.legs) == 2


def test_a_crypto_position_is_read_and_closed_by_its_slashed_symbol(sandbox: Harness) -> None:
    client = sandbox.trading()
    client.submit_order(_market("BTC/USD", qty=0.5, tif=TimeInForce.GTC))
    position = client.get_open_position("BTC/USD")
    assert position.symbol == "BTCUSD"  # Alpaca names crypto positions without the slash
    assert position.asset_class is AssetClass.CRYPTO
    assert client.get_open_position("BTCUSD").qty == position.qty
    closing = client.close_position("BTC/USD", ClosePositionRequest(percentage="50"))
    assert closing.side is OrderSide.SELL
    assert closing.qty == "0.25"


def test_replace_gives_a_new_order_that_replaces_the_old(sandbox: Harness) -> None:
    client = sandbox.trading()
    last = _price(sandbox, "MSFT")
    order = client.submit_order(LimitOrderRequest(
        symbol="MSFT", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
        limit_price=round(last * 0.5, 2)))  # fmt: skip
    new = client.replace_order_by_id(
        order.id, ReplaceOrderRequest(qty=7, limit_price=round(last * 0.6, 2))
    )
    assert new.replaces == order.id
    assert new.qty == "7"
    old = client.get_order_by_id(order.id)
    assert old.status is OrderStatus.REPLACED
    assert old.replaced_by == new.id


def test_cancel_one_gives_204_and_cancel_all_gives_207(sandbox: Harness) -> None:
    client = sandbox.trading()
    low = round(_price(sandbox, "MSFT") * 0.5, 2)
    ids = [
        client.submit_order(LimitOrderRequest(symbol="MSFT", qty=1, side=OrderSide.BUY,
                            time_in_force=TimeInForce.GTC, limit_price=low)).id
        for _ in range(3)
    ]  # fmt: skip
    response = sandbox.http.delete(f"/v2/orders/{ids[0]}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get_order_by_id(ids[0]).status is OrderStatus.CANCELED
    results = client.cancel_orders()
    assert {r.id for r in results} == set(ids[1:])
    assert all(r.status == 200 for r in results)
    assert sandbox.http.delete("/v2/orders").status_code == 207


def test_close_all_positions_answers_207_per_symbol(sandbox: Harness) -> None:
    client = sandbox.trading()
    client.submit_order(_market("AAPL", qty=3))
    client.submit_order(_market("ETH/USD", qty=2, tif=TimeInForce.GTC))
    results = client.close_all_positions(cancel_orders=True)
    assert {r.symbol for r in results} == {"AAPL", "ETHUSD"}
    assert all(r.status == 200 for r in results)


def test_rejections_use_alpacas_status_and_words(sandbox: Harness) -> None:
    client = sandbox.trading()
    with pytest.raises(APIError) as unknown:
        client.submit_order(_market("NOPE"))
    assert unknown.value.status_code == 422
    with pytest.raises(APIError) as poor:
        client.submit_order(_market("AAPL", qty=100_000))
    assert poor.value.status_code == 403
    assert "buying power" in str(poor.value)
    client.submit_order(_market(qty=1, client_order_id="dup"))
    with pytest.raises(APIError) as dup:
        client.submit_order(_market(qty=1, client_order_id="dup"))
    assert dup.value.status_code == 422
    with pytest.raises(APIError) as missing:
        client.get_order_by_id(uuid.uuid4())
    assert missing.value.status_code == 404


def test_clock_and_calendar_come_from_the_replay(sandbox: Harness) -> None:
    client = sandbox.trading()
    clock = client.get_clock()
    assert clock.is_open
    assert START <= clock.timestamp < START.replace(hour=21)
    days = client.get_calendar(GetCalendarRequest(start=START.date(), end=START.date()))
    assert len(days) == 1
    assert days[0].open.strftime("%H:%M") == "09:30"


def test_assets_list_and_look_up_by_symbol_or_id(sandbox: Harness) -> None:
    client = sandbox.trading()
    crypto = client.get_all_assets(GetAssetsRequest(asset_class=AssetClass.CRYPTO))
    assert {a.symbol for a in crypto} == {"BTC/USD", "ETH/USD"}
    btc = client.get_asset("BTC/USD")
    assert client.get_asset(btc.id).symbol == "BTC/USD"
    with pytest.raises(APIError) as missing:
        client.get_asset("NOPE")
    assert missing.value.status_code == 404


def test_fills_are_account_activities(sandbox: Harness) -> None:
    client = sandbox.trading()
    order = client.submit_order(_market(qty=4))
    rows = client.get("/account/activities/FILL")
    assert isinstance(rows, list)
    assert rows
    assert rows[0]["order_id"] == str(order.id)
    assert rows[0]["activity_type"] == "FILL"
    from alpaca.trading.models import TradeActivity

    TradeActivity(**rows[0])


def _price(sandbox: Harness, symbol: str = "AAPL") -> float:
    response = sandbox.http.get("/v2/stocks/trades/latest", params={"symbols": symbol})
    return float(response.json()["trades"][symbol]["p"])
