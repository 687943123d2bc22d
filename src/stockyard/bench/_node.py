"""``stockyard bench node``: decision latency against the sandbox, bar throughput in replay.

* ``decision_p50_us`` / ``decision_p99_us``: from a bar's arrival at the node (the bus
  delivers it; a subscriber placed before the node's stamps it) to the moment the order
  manager calls ``AlpacaBroker.submit`` for the order the strategy made on that bar —
  risk, the journaled intent and its ``submitting`` event (SQLite file) included. The
  sandbox runs in this process, paused, and is stepped one minute at a time; each step's
  order is sent before the next step, so no queueing is measured.
* ``bars_per_s``: minute bars from a ``ReplayFeed`` (speed 0) over the bus into a node
  running 10 ``sma_cross`` bots over 50 symbols (5 each), on ``SimBroker`` (an in-process
  ``SimExchange`` fed the same bars), journal in a SQLite file.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.core import Bar, Order, OrderRequest
from stockyard.data import MarketCalendar, SyntheticSource
from stockyard.data.feeds import AlpacaFeed, ReplayFeed
from stockyard.engine import NodeConfig, TradingNode, VenueClock
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.store import open_database
from stockyard.strategy import BarRow, SmaCross, Strategy

__all__ = ["BENCH_SYMBOLS", "BenchVenue", "run_node_benchmark"]

# Monday 4 March 2024, 10:00 New York: the market is open.
_START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
BENCH_SYMBOLS = ("AAPL", "MSFT")


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchVenue:
    """A running sandbox for the latency part, paused in an open session and trading
    ``BENCH_SYMBOLS``: its URL, keys, and ``step(seconds)`` (blocking) moving its clock."""

    base_url: str
    key_id: str
    secret_key: str
    step: Callable[[float], None]


_QUIET = NodeConfig(snapshot_every_s=3600, status_every_s=3600, reconcile_every_s=3600)


class _EveryBar(Strategy):
    """Buys one share on one bar, sells it on the next: an order per bar."""

    name = "bench_every_bar"

    def on_bar(self, bar: BarRow) -> None:
        if self.position(bar.symbol) > 0:
            self.sell(bar.symbol, 1)
        else:
            self.buy(bar.symbol, 1)


class _StampingBroker(AlpacaBroker):
    """``AlpacaBroker`` that notes when each order leaves (the call to ``submit``)."""

    def __init__(self, arrivals: dict[str, int], **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]  # AlpacaBroker's own keywords
        self.arrivals = arrivals
        self.latencies_ns: list[int] = []

    async def submit(self, request: OrderRequest) -> Order:
        arrived = self.arrivals.get(request.symbol)
        if arrived is not None:
            self.latencies_ns.append(time.perf_counter_ns() - arrived)
        return await super().submit(request)


async def _decision_latency(venue: BenchVenue, steps: int, work: Path) -> list[int]:
    symbols = BENCH_SYMBOLS
    arrivals: dict[str, int] = {}
    bus = InProcessBus(registry=CollectorRegistry())

    def stamp(_topic: str, bar: Bar) -> None:
        arrivals[bar.symbol] = time.perf_counter_ns()

    bus.subscribe("md.bar.*", stamp)  # before the node's: it runs first
    broker = _StampingBroker(
        arrivals, key_id=venue.key_id, secret_key=venue.secret_key, base_url=venue.base_url
    )
    feed = AlpacaFeed(
        bus=bus,
        key_id=venue.key_id,
        secret_key=venue.secret_key,
        stream_url="ws" + venue.base_url.removeprefix("http"),
        name="sandbox",
    )
    node = TradingNode(
        strategies=[_EveryBar(symbols=symbols)],
        broker=broker,
        database=open_database(f"sqlite:///{work / 'latency.db'}"),
        bus=bus,
        feed=feed,
        clock=VenueClock(),
        venue_time=broker.venue_time,
        config=_QUIET,
    )
    await node.start()
    try:
        await _wait(lambda: set(feed.acknowledged) >= set(symbols), 10.0)
        for step in range(1, steps + 1):
            await asyncio.to_thread(venue.step, 60.0)
            want = step * len(symbols)

            def sent(want: int = want) -> bool:
                return len(broker.latencies_ns) >= want

            await _wait(sent, 10.0)
    finally:
        await node.stop()
    return broker.latencies_ns


async def _wait(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the node benchmark timed out waiting for the node")
        await asyncio.sleep(0.0005)


async def _throughput(bars_per_symbol: int, work: Path) -> tuple[int, float, int]:
    names = [f"S{i:02d}" for i in range(50)]
    clock = VenueClock(_START)
    exchange = SimExchange(clock=clock.now, calendar=MarketCalendar.always_open())
    for name in names:
        exchange.add_asset(Asset.stock(name))
    exchange.open_account("bench", cash=Decimal(10**12))
    broker = SimBroker(exchange, account_id="bench")
    bus = InProcessBus(registry=CollectorRegistry())

    def venue(_topic: str, bar: Bar) -> None:
        exchange.on_bar(bar)

    bus.subscribe("md.bar.*", venue)  # the venue sees each bar before the node
    end = _START + timedelta(minutes=bars_per_symbol)
    feed = ReplayFeed(
        bus=bus,
        source=SyntheticSource(seed=7),
        symbols=names,
        start=_START,
        end=end,
        speed=0.0,
    )
    bots = [
        SmaCross(symbols=names[i * 5 : i * 5 + 5], strategy_id=f"bot{i}", fast=20, slow=100)
        for i in range(10)
    ]
    node = TradingNode(
        strategies=bots,
        broker=broker,
        database=open_database(f"sqlite:///{work / 'throughput.db'}"),
        bus=bus,
        feed=None,
        clock=clock,
        config=_QUIET,
        calendar=MarketCalendar.always_open(),  # replayed bars are taken as they come
    )
    await node.start()
    feed.add_symbols(names)
    first: list[float] = []
    bus.subscribe(
        "md.bar.*", lambda _t, _b: first.append(time.perf_counter()) if not first else None
    )
    await feed.start()
    await feed.finished.wait()
    elapsed = time.perf_counter() - first[0]
    bars = node.bars
    orders = node.router.submitted if node.router is not None else 0
    await feed.stop()
    await node.stop()
    return bars, elapsed, orders


def run_node_benchmark(
    venue: BenchVenue, *, steps: int = 200, bars_per_symbol: int = 2_000
) -> dict[str, float | int | str]:
    """Decision latency (µs, p50/p99) on the sandbox and bars/s through a 10-bot, 50-symbol
    node in replay; see the module docstring for what each figure covers."""
    with tempfile.TemporaryDirectory(prefix="stockyard-bench-node-") as tmp:
        work = Path(tmp)
        latencies = asyncio.run(_decision_latency(venue, steps, work))
        bars, elapsed, orders = asyncio.run(_throughput(bars_per_symbol, work))
    micros = sorted(ns / 1000 for ns in latencies)
    p99 = micros[min(len(micros) - 1, int(len(micros) * 0.99))]
    return {
        "decision_p50_us": round(statistics.median(micros), 1),
        "decision_p99_us": round(p99, 1),
        "decision_orders": len(micros),
        "bars_per_s": round(bars / elapsed),
        "bars": bars,
        "bots": 10,
        "symbols": 50,
        "throughput_orders": orders,
        "latency_broker": "AlpacaBroker on the sandbox (its own process, paused, stepped)",
        "throughput_broker": "SimBroker (in-process SimExchange)",
    }
