"""SimBroker and AlpacaBroker, each under the order manager, give the same fills for the same
scripted orders on the same quotes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sandbox_env import HEADERS, KEY, SECRET

from stockyard.core import (
    Fill,
    OrderRequest,
    OrderSide,
    OrderType,
    Quote,
    TimeInForce,
)
from stockyard.data import MarketCalendar
from stockyard.execution import (
    Asset,
    Broker,
    ExchangeConfig,
    SimBroker,
    SimExchange,
    sequential_ids,
)
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.execution.oms import InMemoryOrderJournal, OrderManager
from stockyard.sandbox import SandboxServer

Row = tuple[str, str, str, Decimal, Decimal]


def script() -> list[OrderRequest]:
    return [
        OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(10)),
        OrderRequest(symbol="AAPL", side=OrderSide.SELL, qty=Decimal(4)),
        OrderRequest(
            symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.01"), time_in_force=TimeInForce.GTC
        ),
        OrderRequest(
            symbol="AAPL",
            side=OrderSide.BUY,
            qty=Decimal(5),
            type=OrderType.LIMIT,
            limit_price=Decimal("1.00"),
        ),
    ]


async def trade(broker: Broker, clock: datetime) -> list[Row]:
    manager = OrderManager(broker=broker, journal=InMemoryOrderJournal(), clock=lambda: clock)
    fills: list[Fill] = []
    manager.add_fill_listener(lambda _s, f: fills.append(f))
    await manager.start()
    try:
        for request in script():
            await manager.submit("parity", request)
        await manager.cancel("parity-3")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(fills) < 3 or manager.open_orders():
            assert loop.time() < deadline, "timed out waiting for the fills"
            await asyncio.sleep(0.005)
    finally:
        await manager.stop()
    return sorted((f.client_order_id, f.symbol, f.side.value, f.qty, f.price) for f in fills)


def latest_quotes(server: SandboxServer) -> list[Quote]:
    with httpx.Client(base_url=server.base_url, headers=HEADERS) as http:
        stock = http.get("/v2/stocks/quotes/latest", params={"symbols": "AAPL"}).json()
        crypto = http.get("/v1beta3/crypto/us/latest/quotes", params={"symbols": "BTC/USD"}).json()
    quotes = []
    for symbol, q in [*stock["quotes"].items(), *crypto["quotes"].items()]:
        at = datetime.fromisoformat(q["t"].replace("Z", "+00:00"))
        quotes.append(Quote(symbol, at, q["bp"], q["bs"], q["ap"], q["as"]))
    return quotes


def test_sim_broker_and_alpaca_broker_give_the_same_fills(sandbox: SandboxServer) -> None:
    now = sandbox.sandbox.clock.now()
    exchange = SimExchange(
        clock=lambda: now,
        config=ExchangeConfig(fill_on_submit=True),
        calendar=MarketCalendar.nyse(),
        id_factory=sequential_ids(1),
    )
    exchange.add_asset(Asset.stock("AAPL"))
    exchange.add_asset(Asset.crypto("BTC/USD"))
    exchange.open_account("acct", cash=Decimal(100_000))
    for quote in latest_quotes(sandbox):
        exchange.on_quote(quote)
    alpaca = AlpacaBroker(key_id=KEY, secret_key=SECRET, base_url=sandbox.base_url)
    on_alpaca = asyncio.run(trade(alpaca, datetime.now(UTC)))
    on_sim = asyncio.run(trade(SimBroker(exchange, account_id="acct"), now))
    assert len(on_sim) == 3
    assert on_sim == on_alpaca
