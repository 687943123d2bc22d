"""``stockyard bench oms``: submit → fill through the order manager.

On ``SimBroker`` (in process, the synchronous path a backtest uses, and the same code awaited
on an event loop): microseconds per order, journal and state machine included. On a given
network broker (the CLI passes an ``AlpacaBroker`` on a sandbox it starts): milliseconds from
``submit`` to the fill arriving on the trade stream.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

from stockyard.core import Fill, OrderRequest, OrderSide, Quote, WallClock
from stockyard.data import MarketCalendar
from stockyard.execution import Broker, SimBroker
from stockyard.execution.oms import InMemoryOrderJournal, OrderManager
from stockyard.execution.sim import Asset, ExchangeConfig, SimExchange, sequential_ids

__all__ = ["run_oms_benchmark"]

# Tuesday 2 July 2024, 10:00 New York: the market is open.
_OPEN = datetime(2024, 7, 2, 14, 0, tzinfo=UTC)


def _exchange() -> SimExchange:
    exchange = SimExchange(
        clock=lambda: _OPEN,
        config=ExchangeConfig(fill_on_submit=True),
        calendar=MarketCalendar.nyse(),
        id_factory=sequential_ids(1),
    )
    exchange.add_asset(Asset.stock("AAPL"))
    exchange.open_account("bench", cash=Decimal(10_000_000))
    exchange.on_quote(Quote("AAPL", _OPEN, 99.99, 500.0, 100.01, 500.0))
    return exchange


def _sim_manager() -> tuple[OrderManager, list[Fill]]:
    exchange = _exchange()
    manager = OrderManager(
        broker=SimBroker(exchange, account_id="bench"),
        journal=InMemoryOrderJournal(),
        clock=lambda: _OPEN,
    )
    fills: list[Fill] = []
    manager.add_fill_listener(lambda _s, f: fills.append(f))
    manager.start_sync()
    return manager, fills


def _requests(n: int) -> list[OrderRequest]:
    sides = (OrderSide.BUY, OrderSide.SELL)
    return [OrderRequest(symbol="AAPL", side=sides[i % 2], qty=Decimal(1)) for i in range(n)]


def _sim_figures(orders: int) -> dict[str, float]:
    manager, fills = _sim_manager()
    requests = _requests(orders)
    started = time.perf_counter()
    for request in requests:
        manager.submit_sync("bench", request)
    sync_s = time.perf_counter() - started
    if len(fills) != orders:
        raise RuntimeError(f"{len(fills)} of {orders} orders filled; expected every one")

    async def on_loop() -> float:
        manager2, fills2 = _sim_manager()
        t0 = time.perf_counter()
        for request in requests:
            await manager2.submit("bench", request)
        if len(fills2) != orders:
            raise RuntimeError(f"{len(fills2)} of {orders} orders filled on the loop")
        return time.perf_counter() - t0

    async_s = asyncio.run(on_loop())
    bare = _exchange()  # the same orders straight into the exchange: what the OMS adds is the rest
    numbered = [
        dataclasses.replace(r, client_order_id=f"bench-{i}") for i, r in enumerate(requests)
    ]
    t0 = time.perf_counter()
    for request in numbered:
        bare.submit("bench", request)
    bare_s = time.perf_counter() - t0
    return {
        "sim_orders": orders,
        "sim_exchange_only_us_per_order": round(bare_s / orders * 1e6, 2),
        "sim_us_per_order": round(sync_s / orders * 1e6, 2),
        "sim_async_us_per_order": round(async_s / orders * 1e6, 2),
    }


async def _network_figures(broker: Broker, orders: int) -> dict[str, float]:
    manager = OrderManager(broker=broker, journal=InMemoryOrderJournal(), clock=WallClock().now)
    arrived = asyncio.Event()
    manager.add_fill_listener(lambda _s, _f: arrived.set())
    await manager.start()
    latencies: list[float] = []
    try:
        for request in _requests(orders):
            arrived.clear()
            t0 = time.perf_counter()
            await manager.submit("bench", request)
            await asyncio.wait_for(arrived.wait(), 10)
            latencies.append((time.perf_counter() - t0) * 1e3)
    finally:
        await manager.stop()
    cuts = statistics.quantiles(latencies, n=100)
    name = broker.capabilities.name
    return {
        f"{name}_orders": orders,
        f"{name}_fill_p50_ms": round(statistics.median(latencies), 3),
        f"{name}_fill_p99_ms": round(cuts[98], 3),
    }


def run_oms_benchmark(
    *, orders: int = 20_000, broker: Broker | None = None, broker_orders: int = 200
) -> dict[str, float]:
    """Measure submit → fill through the order manager: on SimBroker always; on ``broker``
    too when given (it must fill marketable AAPL orders at once, as the sandbox does)."""
    if orders < 1 or broker_orders < 2:
        raise ValueError("orders must be >= 1 and broker_orders >= 2")
    figures = _sim_figures(orders)
    if broker is not None:
        figures.update(asyncio.run(_network_figures(broker, broker_orders)))
    return figures
