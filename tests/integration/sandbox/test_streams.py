"""The market-data and trading WebSockets through alpaca-py's stream clients, and a plain
JSON client for the protocol's edges."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest
from tests.integration.sandbox.conftest import KEY, SECRET, Harness, _start, make_config, wait_for
from websockets.sync.client import ClientConnection, connect

from stockyard.sandbox import StreamLimits
from stockyard.sandbox._clients import CryptoDataStream, StockDataStream, TradingStream


@contextlib.contextmanager
def _json_client(sandbox: Harness, path: str = "/v2/iex") -> Iterator[ClientConnection]:
    with connect(f"{sandbox.server.stream_url}{path}", open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5)) == [{"T": "success", "msg": "connected"}]
        yield ws


def _send(ws: ClientConnection, message: dict[str, Any]) -> list[dict[str, Any]]:
    ws.send(json.dumps(message))
    reply: list[dict[str, Any]] = json.loads(ws.recv(timeout=5))
    return reply


def _auth(ws: ClientConnection) -> None:
    assert _send(ws, {"action": "auth", "key": KEY, "secret": SECRET}) == [
        {"T": "success", "msg": "authenticated"}
    ]


def test_stock_stream_delivers_trades_quotes_and_bars_to_alpaca_py(sandbox: Harness) -> None:
    got: dict[str, list[Any]] = {"t": [], "q": [], "b": [], "d": []}

    async def on_trade(x: Any) -> None:
        got["t"].append(x)

    async def on_quote(x: Any) -> None:
        got["q"].append(x)

    async def on_bar(x: Any) -> None:
        got["b"].append(x)

    async def on_daily(x: Any) -> None:
        got["d"].append(x)

    stream = StockDataStream(KEY, SECRET, url_override=f"{sandbox.server.stream_url}/v2/iex")
    stream.subscribe_trades(on_trade, "AAPL")
    stream.subscribe_quotes(on_quote, "AAPL")
    stream.subscribe_bars(on_bar, "AAPL", "MSFT")
    stream.subscribe_daily_bars(on_daily, "AAPL")
    sandbox.run_stream(stream)
    wait_for(sandbox.sandbox.md_hub.all_subscribed, what="the subscription")
    wait_for(lambda: sandbox.sandbox.md_hub.connections == 1, what="the connection")
    sandbox.advance(120)
    wait_for(lambda: all(got.values()), what="every kind of message")
    assert {b.symbol for b in got["b"]} == {"AAPL", "MSFT"}
    assert all(t.symbol == "AAPL" and t.price > 0 for t in got["t"])
    assert got["q"][0].ask_price >= got["q"][0].bid_price
    stamps = [t.timestamp for t in got["t"]]
    assert stamps == sorted(stamps)


def test_crypto_stream_speaks_msgpack_to_alpaca_py(sandbox: Harness) -> None:
    trades: list[Any] = []

    async def on_trade(x: Any) -> None:
        trades.append(x)

    url = f"{sandbox.server.stream_url}/v1beta3/crypto/us"
    stream = CryptoDataStream(KEY, SECRET, url_override=url)
    stream.subscribe_trades(on_trade, "BTC/USD")
    sandbox.run_stream(stream)
    wait_for(lambda: sandbox.sandbox.md_hub.connections == 1, what="the connection")
    wait_for(sandbox.sandbox.md_hub.all_subscribed, what="the subscription")
    sandbox.advance(60)
    wait_for(lambda: len(trades) >= 4, what="four trades")
    assert {t.symbol for t in trades} == {"BTC/USD"}


def test_each_subscription_change_is_acknowledged_with_the_whole_set(sandbox: Harness) -> None:
    with _json_client(sandbox) as ws:
        _auth(ws)
        (ack,) = _send(ws, {"action": "subscribe", "trades": ["AAPL"], "bars": ["*"]})
        assert ack["T"] == "subscription"
        assert ack["trades"] == ["AAPL"]
        assert ack["bars"] == ["*"]
        assert ack["quotes"] == []
        (ack,) = _send(ws, {"action": "subscribe", "quotes": ["MSFT"]})
        assert ack["trades"] == ["AAPL"]
        assert ack["quotes"] == ["MSFT"]
        (ack,) = _send(ws, {"action": "unsubscribe", "trades": ["AAPL"]})
        assert ack["trades"] == []
        assert ack["quotes"] == ["MSFT"]
        assert ack["bars"] == ["*"]
        sandbox.advance(60)
        frame = json.loads(ws.recv(timeout=5))
        assert {m["T"] for m in frame} <= {"q", "b", "d", "s"}
        assert all(m["S"] == "MSFT" for m in frame if m["T"] == "q")
        assert all(isinstance(m["t"], str) and m["t"].endswith("Z") for m in frame)


def test_protocol_errors_carry_alpacas_codes(sandbox: Harness) -> None:
    with _json_client(sandbox) as ws:
        assert _send(ws, {"action": "subscribe", "trades": ["AAPL"]}) == [
            {"T": "error", "code": 401, "msg": "not authenticated"}
        ]
        (bad,) = _send(ws, {"action": "dance"})
        assert bad["code"] == 400
        ws.send("{not json")
        (syntax,) = json.loads(ws.recv(timeout=5))
        assert syntax["code"] == 400
        assert "invalid syntax" in syntax["msg"]
        ws.send("x" * (1 << 20 + 1))
        (big,) = json.loads(ws.recv(timeout=5))
        assert big["code"] == 400
        assert "larger than" in big["msg"]
        _auth(ws)
        assert _send(ws, {"action": "auth", "key": KEY, "secret": SECRET})[0]["code"] == 403
        (wrong,) = _send(ws, {"action": "subscribe", "trades": "AAPL"})
        assert wrong["code"] == 400
        assert "list of symbols" in wrong["msg"]
    with _json_client(sandbox) as ws:
        assert _send(ws, {"action": "auth", "key": KEY, "secret": "wrong"}) == [
            {"T": "error", "code": 402, "msg": "auth failed"}
        ]


@pytest.fixture
def strict() -> Iterator[Harness]:
    limits = StreamLimits(connections_per_key=1, symbols_per_connection=2, sip=False)
    yield from _start(make_config(limits=limits))


def test_limits_answer_405_406_and_409(strict: Harness) -> None:
    with _json_client(strict) as ws:
        _auth(ws)
        (over,) = _send(ws, {"action": "subscribe", "trades": ["AAPL", "MSFT", "SPY"]})
        assert over == {"T": "error", "code": 405, "msg": "symbol limit exceeded"}
        with _json_client(strict) as second:
            reply = _send(second, {"action": "auth", "key": KEY, "secret": SECRET})
            assert reply == [{"T": "error", "code": 406, "msg": "connection limit exceeded"}]
    with _json_client(strict, "/v2/sip") as sip:
        reply = _send(sip, {"action": "auth", "key": KEY, "secret": SECRET})
        assert reply == [{"T": "error", "code": 409, "msg": "insufficient subscription"}]


def test_the_connection_limit_counts_stocks_and_crypto_apart(strict: Harness) -> None:
    with _json_client(strict) as stocks, _json_client(strict, "/v1beta3/crypto/us") as crypto:
        _auth(stocks)
        _auth(crypto)
        assert strict.sandbox.md_hub.connections == 2


def test_binary_clients_get_msgpack_with_timestamp_extensions(sandbox: Harness) -> None:
    url = f"{sandbox.server.stream_url}/v2/iex"
    with connect(url, additional_headers={"Content-Type": "application/msgpack"}) as ws:
        assert msgpack.unpackb(ws.recv(timeout=5))[0]["msg"] == "connected"
        ws.send(msgpack.packb({"action": "auth", "key": KEY, "secret": SECRET}))
        assert msgpack.unpackb(ws.recv(timeout=5))[0]["msg"] == "authenticated"
        ws.send(msgpack.packb({"action": "subscribe", "trades": ["AAPL"]}))
        assert msgpack.unpackb(ws.recv(timeout=5))[0]["T"] == "subscription"
        sandbox.advance(60)
        frame = msgpack.unpackb(ws.recv(timeout=5))
        assert frame[0]["T"] == "t"
        assert isinstance(frame[0]["t"], msgpack.Timestamp)


def test_trading_stream_sends_new_and_fill_with_the_rest_order_json(sandbox: Harness) -> None:
    updates: list[dict[str, Any]] = []

    async def on_update(raw: Any) -> None:
        updates.append(raw)

    url = f"{sandbox.server.stream_url}/stream"
    stream = TradingStream(KEY, SECRET, raw_data=True, url_override=url)
    stream.subscribe_trade_updates(on_update)
    sandbox.run_stream(stream)
    wait_for(lambda: sandbox.sandbox.trade_hub.listening == 1, what="the trading stream")
    order = sandbox.trading().submit_order(
        MarketOrderRequest(symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    wait_for(lambda: any(u["data"]["event"] == "fill" for u in updates), what="the fill")
    events = [u["data"]["event"] for u in updates]
    assert events[0] == "new"
    assert events[-1] == "fill"
    fill = updates[-1]["data"]
    assert fill["qty"] == "3"
    assert fill["position_qty"] == "3"
    assert float(fill["price"]) > 0
    rest = sandbox.http.get(f"/v2/orders/{order.id}").json()
    assert fill["order"] == rest


def test_trading_stream_parses_into_alpaca_py_models(sandbox: Harness) -> None:
    updates: list[Any] = []

    async def on_update(update: Any) -> None:
        updates.append(update)

    stream = TradingStream(KEY, SECRET, url_override=f"{sandbox.server.stream_url}/stream")
    stream.subscribe_trade_updates(on_update)
    sandbox.run_stream(stream)
    wait_for(lambda: sandbox.sandbox.trade_hub.listening == 1, what="the trading stream")
    client = sandbox.trading()
    order = client.submit_order(MarketOrderRequest(
        symbol="ETH/USD", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC))  # fmt: skip
    client.cancel_orders()
    wait_for(lambda: any(u.event == "fill" for u in updates), what="the fill")
    assert updates[-1].order.id == order.id


def test_alpaca_py_reconnects_and_resubscribes_after_an_injected_disconnect(
    sandbox: Harness,
) -> None:
    trades: list[Any] = []

    async def on_trade(x: Any) -> None:
        trades.append(x)

    hub = sandbox.sandbox.md_hub
    stream = StockDataStream(KEY, SECRET, url_override=f"{sandbox.server.stream_url}/v2/iex")
    stream.subscribe_trades(on_trade, "MSFT")
    sandbox.run_stream(stream)
    wait_for(lambda: hub.connections == 1 and hub.all_subscribed(), what="the first connection")
    reply = sandbox.http.post("/sandbox/faults", json={"ws_disconnect_every_s": 0.2})
    assert reply.status_code == 200
    wait_for(lambda: hub.connections == 0, what="the injected disconnect")
    sandbox.http.post("/sandbox/faults", json={})
    wait_for(
        lambda: hub.connections == 1 and hub.all_subscribed(), timeout=15, what="the reconnect"
    )
    sandbox.advance(60)
    wait_for(lambda: len(trades) >= 4, what="trades after the reconnect")
