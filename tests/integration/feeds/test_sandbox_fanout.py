"""Issue 5's "done when": a sandbox feed reaches three separate processes through Redis at
10,000 messages/s with none lost. Every message the feed published is compared, topic by
topic and in order, with what each process received. The sandbox runs in a process of its
own too, as it would in use (and so that it does not share the feed's interpreter lock)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.integration.feeds.conftest import until
from tests.integration.sandbox.conftest import HEADERS, KEY, SECRET, START

from stockyard.bus import RedisBus
from stockyard.data.feeds import AlpacaFeed

pytestmark = pytest.mark.redis
RATE = 10_000
STOCKS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AMD", "INTC", "SPY", "QQQ")
CRYPTO = ("BTC/USD", "ETH/USD", "SOL/USD", "LTC/USD", "DOGE/USD")
SYMBOLS = STOCKS + CRYPTO
# The paused sandbox is stepped three simulated minutes at a time: each minute releases
# every symbol's four trades, four quotes and bar (16 x 9 = 144 messages), so a step is
# 432 messages in one frame per stream, paced to offer 20,000 messages/s. 70 steps (about
# 1.5 s) stay inside the 10:00-16:00 session of the replayed day.
STEP_MINUTES = 3
STEPS = 70
PACE = 20_000
PER_STEP = STEP_MINUTES * 9 * len(SYMBOLS)
INTERVAL_S = PER_STEP / PACE

SUBSCRIBER = """
import asyncio, json, sys
from prometheus_client import CollectorRegistry
from stockyard.bus import RedisBus

async def run(url, prefix):
    seen = []
    bus = RedisBus(url=url, prefix=prefix, registry=CollectorRegistry())
    bus.subscribe("md.>", lambda t, m: seen.append((t, m.timestamp.isoformat())))
    await bus.start()
    await bus.ready()
    print("ready", flush=True)
    total = int(await asyncio.to_thread(sys.stdin.readline))
    deadline = asyncio.get_running_loop().time() + 60
    while len(seen) < total and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # a duplicate would show up here
    await bus.close()
    print(json.dumps(seen), flush=True)

asyncio.run(run(sys.argv[1], sys.argv[2]))
"""


SANDBOX = """
import sys
from datetime import datetime
from stockyard.sandbox import SandboxConfig, SandboxServer

key, secret, start, symbols = sys.argv[1:5]
config = SandboxConfig(
    key_id=key, secret_key=secret, port=0, symbols=tuple(symbols.split(",")),
    start=datetime.fromisoformat(start), speed=0.0,
)
server = SandboxServer(config).start()
print(server.port, flush=True)
for line in sys.stdin:  # each line asks: how many market-data messages were written?
    print(server.sandbox.md_hub.delivered, flush=True)
server.stop()
"""


class SandboxProcess:
    """A sandbox in its own process: its URLs, its admin API, its delivered count."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SANDBOX, KEY, SECRET, START.isoformat(), ",".join(SYMBOLS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline())
        self.stream_url = f"ws://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=HEADERS)

    def replay(self) -> None:
        """``STEPS`` steps of ``STEP_MINUTES`` (``POST /sandbox/clock``), paced at ``PACE``."""
        began = time.monotonic()
        for step in range(STEPS):
            self.http.post("/sandbox/clock", json={"seconds": 60 * STEP_MINUTES}).raise_for_status()
            ahead = began + (step + 1) * INTERVAL_S - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # pacing the source, not waiting for a result

    def delivered(self) -> int:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("?\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        self.http.close()
        try:
            self.proc.communicate(timeout=30)  # stdin closed: the sandbox stops
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()


@pytest.fixture
def sandbox_process() -> Iterator[SandboxProcess]:
    sandbox = SandboxProcess()
    try:
        yield sandbox
    finally:
        sandbox.close()


def _by_topic(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for topic, stamp in pairs:
        out[topic].append(stamp)
    return dict(out)


def test_a_sandbox_feed_reaches_three_processes_through_redis_at_10k_per_second_none_lost(
    sandbox_process: SandboxProcess, redis_url: str, redis_prefix: str
) -> None:
    sandbox = sandbox_process
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SUBSCRIBER, redis_url, redis_prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    published: list[tuple[str, str]] = []
    times: list[float] = []

    def record(topic: str, message: object) -> None:
        published.append((topic, message.timestamp.isoformat()))  # type: ignore[attr-defined]
        times.append(time.monotonic())

    async def publish() -> dict[str, object]:
        async with RedisBus(
            url=redis_url, prefix=redis_prefix, registry=CollectorRegistry()
        ) as bus:
            bus.subscribe("md.>", record)  # local delivery: exactly what the feed published
            feed = AlpacaFeed(
                bus=bus,
                key_id=KEY,
                secret_key=SECRET,
                stream_url=sandbox.stream_url,
                symbols=SYMBOLS,
                name="sandbox",
            )
            await feed.start()
            try:
                await until(lambda: feed.acknowledged == set(SYMBOLS), what="the subscriptions")
                await asyncio.to_thread(sandbox.replay)
                delivered = await asyncio.to_thread(sandbox.delivered)  # paused: final
                await until(
                    lambda: feed.guard.counts.accepted == delivered,
                    what=lambda: f"every delivered message ({delivered}): {feed.stats()}",
                )
                await bus.flush()
                return {**feed.stats(), "delivered": delivered}
            finally:
                await feed.stop()

    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        stats = asyncio.run(publish())
        results = [json.loads(p.communicate(f"{len(published)}\n", timeout=90)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()

    assert stats["published"] == len(published) == stats["delivered"] >= STEPS * PER_STEP
    assert stats["reconnects"] == 0
    assert stats["duplicate"] == stats["out_of_order"] == stats["malformed"] == 0
    rate = len(times) / (times[-1] - times[0])
    assert rate >= RATE, f"the feed published {rate:.0f} messages/s"
    expected = _by_topic(published)
    assert len(expected) == 3 * len(SYMBOLS)
    for seen in results:
        assert len(seen) == len(published)  # every message counted, none twice
        assert _by_topic([(t, s) for t, s in seen]) == expected  # none lost, in order per topic
