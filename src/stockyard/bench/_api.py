"""``stockyard bench api``: ``GET /api/v1/positions`` under open-loop load, and event
delivery from the bus to an SSE client.

The hub runs here as ``stockyard up`` runs it (uvicorn in a thread, the node on a loop of
its own, trading on an in-process venue). The load comes from a separate process: requests
are *scheduled* at a fixed rate over keep-alive connections and each one's latency counts
from its scheduled time, so a slow server cannot slow the load down and hide its queue
(open loop: no coordinated omission). Events: bars published on the node's bus, timed from
publish to the SSE client having the event parsed.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
from prometheus_client import CollectorRegistry

from stockyard.api import HealthServer, enable_control, health_app
from stockyard.bus import InProcessBus
from stockyard.config import load_settings
from stockyard.core import Bar
from stockyard.data import MarketCalendar
from stockyard.engine import NodeConfig, NodeThread, TradingNode, VenueClock
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.services import Caller, LocalNodeClient
from stockyard.store import KeyScope, open_database
from stockyard.strategy import BarRow, Strategy

__all__ = ["run_api_benchmark"]

_START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)

# The open-loop load generator: raw asyncio keep-alive HTTP/1.1 (httpx would measure itself).
_LOAD = r"""
import asyncio, json, sys, time
host, port, path, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rate, seconds, conns = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n\r\n").encode()

async def worker(index, start, total, lat, bad):
    reader, writer = await asyncio.open_connection(host, port)
    i = index
    while i < total:
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        lat.append((time.perf_counter() - due) * 1000)
        if not head.startswith(b"HTTP/1.1 200"):
            bad[0] += 1
        i += conns
    writer.close()

async def main():
    total = int(rate * seconds)
    lat, bad = [], [0]
    start = time.perf_counter() + 0.5
    await asyncio.gather(*(worker(c, start, total, lat, bad) for c in range(conns)))
    elapsed = time.perf_counter() - start
    print(json.dumps({"latencies": lat, "elapsed": elapsed, "non_200": bad[0]}))

asyncio.run(main())
"""


class _Idle(Strategy):
    name = "bench_idle"

    def on_bar(self, bar: BarRow) -> None:
        return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Hub:
    def __init__(self, home: Path) -> None:
        self.settings = load_settings(overrides={"home": str(home)})
        clock = VenueClock(_START)
        self.exchange = SimExchange(clock=clock.now, calendar=MarketCalendar.always_open())
        self.exchange.add_asset(Asset.stock("AAPL"))
        self.exchange.open_account("acct", cash=Decimal(100_000))
        self.node = TradingNode(
            strategies=[_Idle(symbols=["AAPL"])],
            broker=SimBroker(self.exchange, account_id="acct"),
            database=open_database(self.settings),
            bus=InProcessBus(registry=CollectorRegistry()),
            clock=clock,
            config=NodeConfig(),
        )
        self.thread = NodeThread(self.node).start()
        app = health_app(self.settings, metrics=CollectorRegistry())
        self.control = enable_control(
            app,
            self.settings,
            host="127.0.0.1",
            nodes={"main": LocalNodeClient(self.node, loop=self.thread.loop)},
            buses=(self.node.bus,),
        )
        made = self.control.services.access.create_key(
            "bench", KeyScope.READ, caller=Caller.local("bench"), rate_exempt=True
        )
        self.key = made.secret
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()

    def publish(self, sequence: int) -> None:
        bar = Bar("AAPL", _START + timedelta(minutes=sequence), 100, 100.5, 99.5, 100, sequence)
        loop = self.thread.loop
        assert loop is not None
        loop.call_soon_threadsafe(self.node.bus.publish, "md.bar.AAPL", bar)

    def close(self) -> None:
        self.server.stop()
        self.control.close()
        self.thread.stop()


def _events(hub: _Hub, count: int, spacing_s: float) -> list[float]:
    """Publish ``count`` bars; ms from each publish to its SSE event parsed by a client."""
    sent: dict[int, float] = {}
    got: dict[int, float] = {}
    ready = threading.Event()

    def listen() -> None:
        headers = {"X-API-Key": hub.key}
        with (
            httpx.Client(base_url=hub.server.url, headers=headers, timeout=None) as client,
            client.stream("GET", "/api/v1/events", params={"topics": "bars"}) as stream,
        ):
            for line in stream.iter_lines():
                ready.set()
                if line.startswith("data:"):
                    event = orjson.loads(line[5:])
                    got[int(float(event["data"]["volume"]))] = time.perf_counter()
                    if len(got) >= count:
                        return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    ready.wait(10)
    for sequence in range(1, count + 1):
        sent[sequence] = time.perf_counter()
        hub.publish(sequence)
        time.sleep(spacing_s)  # a steady event rate; each event is timed on its own
    reader.join(30)
    return [(got[s] - sent[s]) * 1000 for s in sent if s in got]


def run_api_benchmark(
    *,
    rate: float = 2000.0,
    seconds: float = 10.0,
    connections: int = 100,
    events: int = 500,
    home: Path | None = None,
) -> dict[str, object]:
    """Open-loop ``rate`` req/s on ``GET /api/v1/positions`` over ``connections`` for
    ``seconds``; ``events`` bars timed from the bus to an SSE client. Latencies in ms."""
    home = home or Path(tempfile.mkdtemp(prefix="stockyard-bench-api-"))
    hub = _Hub(home)
    try:
        with httpx.Client(base_url=hub.server.url, headers={"X-API-Key": hub.key}) as client:
            for _ in range(200):  # warm up
                client.get("/api/v1/positions").raise_for_status()
        event_ms = _events(hub, events, 0.01)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _LOAD,
                "127.0.0.1",
                str(hub.server.port),
                "/api/v1/positions",
                hub.key,
                str(rate),
                str(seconds),
                str(connections),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds * 20 + 60,
        )
    finally:
        hub.close()
    load = json.loads(done.stdout.strip().splitlines()[-1])
    latencies: list[float] = load["latencies"]
    return {
        "positions_p50_ms": round(statistics.median(latencies), 3),
        "positions_p99_ms": round(_percentile(latencies, 0.99), 3),
        "requests_per_s": round(len(latencies) / load["elapsed"], 1),
        "target_requests_per_s": rate,
        "non_200": load["non_200"],
        "requests": len(latencies),
        "connections": connections,
        "seconds": seconds,
        "events_p50_ms": round(statistics.median(event_ms), 3),
        "events_p99_ms": round(_percentile(event_ms, 0.99), 3),
        "events_delivered": len(event_ms),
        "events_published": events,
    }
