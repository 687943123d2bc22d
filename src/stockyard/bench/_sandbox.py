"""``stockyard bench sandbox``: order round trip and market-data throughput, measured with
the real alpaca-py clients against an in-process sandbox on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgpack  # type: ignore[import-untyped]  # ships no type hints

from stockyard.sandbox import SandboxConfig, SandboxServer
from stockyard.sandbox._clients import (
    CryptoDataStream,
    MarketOrderRequest,
    OrderSide,
    StreamThread,
    TimeInForce,
    TradeUpdateModel,
    TradingClient,
    TradingStream,
)

__all__ = ["run_sandbox_benchmark"]

_KEY, _SECRET = "BENCHKEY", "bench-secret"
_SYMBOL = "BTC/USD"
_BATCH = 500
_START = datetime(2024, 3, 4, 15, tzinfo=UTC)


def _wait(until: float, check: Callable[[], bool]) -> bool:
    while time.monotonic() < until:
        if check():
            return True
        time.sleep(0.001)
    return False


def _roundtrip(server: SandboxServer, orders: int) -> list[float]:
    filled: dict[str, float] = {}
    events = {f"bench-{i}": threading.Event() for i in range(orders)}

    async def on_update(update: TradeUpdateModel) -> None:
        if update.event == "fill":
            cid = update.order.client_order_id
            filled[cid] = time.perf_counter()
            if cid in events:
                events[cid].set()

    stream = TradingStream(_KEY, _SECRET, url_override=f"{server.stream_url}/stream")
    stream.subscribe_trade_updates(on_update)
    runner = StreamThread(stream, name="bench-trading-stream").start()
    client = TradingClient(_KEY, _SECRET, url_override=server.base_url)
    sandbox = server.sandbox
    deadline = time.monotonic() + 20
    while sandbox.trade_hub.listening < 1:
        if time.monotonic() > deadline:
            raise TimeoutError("the trading stream did not connect")
        time.sleep(0.01)
    times: list[float] = []
    try:
        for i in range(orders):
            side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
            request = MarketOrderRequest(
                symbol=_SYMBOL,
                qty=0.001,
                side=side,
                time_in_force=TimeInForce.GTC,
                client_order_id=f"bench-{i}",
            )
            started = time.perf_counter()
            client.submit_order(request)
            if not events[f"bench-{i}"].wait(5):
                raise TimeoutError(f"no fill event for order {i}")
            times.append((filled[f"bench-{i}"] - started) * 1000)
    finally:
        runner.stop(kick=server.disconnect_streams)
    return times


def _throughput(server: SandboxServer, clients: int, seconds: float) -> float:
    counts = [0] * clients
    streams: list[StreamThread] = []
    for k in range(clients):

        async def on_trade(message: object, k: int = k) -> None:
            counts[k] += 1

        stream = CryptoDataStream(
            _KEY, _SECRET, raw_data=True, url_override=f"{server.stream_url}/v1beta3/crypto/us"
        )
        stream.subscribe_trades(on_trade, _SYMBOL)
        streams.append(StreamThread(stream, name=f"bench-md-{k}").start())
    hub = server.sandbox.md_hub
    deadline = time.monotonic() + 30
    while hub.connections < clients or not hub.all_subscribed():
        if time.monotonic() > deadline:
            raise TimeoutError("the market-data streams did not connect")
        time.sleep(0.01)
    stamp = msgpack.Timestamp.from_unix_nano(time.time_ns())
    batch = [
        {"T": "t", "S": _SYMBOL, "p": 50_000.0 + i, "s": 0.01, "t": stamp, "i": i, "tks": "B"}
        for i in range(_BATCH)
    ]

    async def publish() -> int:
        sent = 0
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            if hub.backlog() > 4:
                await asyncio.sleep(0.0005)
                continue
            hub.publish(batch)
            sent += len(batch)
            await asyncio.sleep(0)
        return sent

    started = time.monotonic()
    sent = server.submit(publish()).result()
    expected = sent * clients
    _wait(time.monotonic() + 30, lambda: sum(counts) >= expected)
    elapsed = time.monotonic() - started
    for runner in streams:
        if runner.thread.is_alive():
            runner.stream.stop()
    server.disconnect_streams()
    for runner in streams:
        runner.thread.join(10)
    return sum(counts) / elapsed


def run_sandbox_benchmark(
    *, orders: int = 1000, clients: int = 10, seconds: float = 5.0
) -> dict[str, float | int]:
    """Round trip submit → fill event (p50, p99 ms) over ``orders`` market orders, and
    market-data messages per second delivered to ``clients`` alpaca-py stream clients."""
    config = SandboxConfig(
        key_id=_KEY,
        secret_key=_SECRET,
        port=0,
        symbols=(_SYMBOL,),
        start=_START,
        speed=0.0,
        cash=Decimal(10) ** 9,
    )
    server = SandboxServer(config).start()
    # alpaca-py logs each stream's closing at the end as a warning; it is expected here.
    alpaca_log = logging.getLogger("alpaca")
    level = alpaca_log.level
    alpaca_log.setLevel(logging.ERROR)
    try:
        server.submit(server.sandbox.step_to(_START + timedelta(minutes=5))).result(60)
        times = _roundtrip(server, orders)
        rate = _throughput(server, clients, seconds)
    finally:
        server.stop()
        alpaca_log.setLevel(level)
    ordered = sorted(times)
    return {
        "roundtrip_p50_ms": round(statistics.median(ordered), 3),
        "roundtrip_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "stream_msgs_per_s": round(rate),
        "orders": orders,
        "stream_clients": clients,
    }
