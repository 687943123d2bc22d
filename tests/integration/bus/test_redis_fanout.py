"""A feed reaches three separate processes through Redis at 10,000 messages/s, none lost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import RedisBus
from stockyard.core import Trade
from stockyard.data.feeds import BaseFeed

pytestmark = pytest.mark.redis
RATE = 10_000
SECONDS = 2
TOTAL = RATE * SECONDS
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "BTC/USD")
T0 = datetime(2024, 1, 2, 15, tzinfo=UTC)


class GeneratorFeed(BaseFeed):
    """Stands in for the sandbox feed: numbered trades, paced at ``RATE`` per second."""

    async def _run(self) -> None:
        start = time.monotonic()
        for seq in range(TOTAL):
            symbol = SYMBOLS[seq % len(SYMBOLS)]
            self.emit(Trade(symbol, T0 + timedelta(microseconds=seq), 100.0, 1.0, seq))
            if seq % 100 == 99:  # pace in steps of 10 ms
                ahead = start + (seq + 1) / RATE - time.monotonic()
                await asyncio.sleep(max(ahead, 0))


SUBSCRIBER = """
import asyncio, json, sys, time
from prometheus_client import CollectorRegistry
from stockyard.bus import RedisBus

async def run(url, prefix, total):
    seen = []
    bus = RedisBus(url=url, prefix=prefix, registry=CollectorRegistry())
    bus.subscribe("md.trade.>", lambda t, m: seen.append(m.id))
    await bus.start()
    await bus.ready()
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while len(seen) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # a duplicate would show up here
    await bus.close()
    print(json.dumps(seen), flush=True)

asyncio.run(run(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_a_feed_reaches_three_processes_at_ten_thousand_per_second_with_none_lost(
    redis_url: str, redis_prefix: str
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SUBSCRIBER, redis_url, redis_prefix, str(TOTAL)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"

        async def publish() -> tuple[float, dict[str, object]]:
            async with RedisBus(
                url=redis_url, prefix=redis_prefix, registry=CollectorRegistry()
            ) as bus:
                feed = GeneratorFeed(bus=bus, name="generator", symbols=SYMBOLS)
                began = time.monotonic()
                await feed.start()
                await asyncio.wait_for(feed.finished.wait(), 60)
                elapsed = time.monotonic() - began
                await bus.flush()
                return elapsed, feed.stats()

        elapsed, stats = asyncio.run(publish())
        results = [json.loads(p.communicate(timeout=90)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert stats["published"] == TOTAL
    assert TOTAL / elapsed >= RATE * 0.9  # the feed kept the pace
    for seen in results:
        assert len(seen) == TOTAL  # every message counted
        assert sorted(seen) == list(range(TOTAL))  # none lost, none twice
        for i in range(len(SYMBOLS)):  # in order per topic (the guarantee pub/sub gives)
            per_topic = [seq for seq in seen if seq % len(SYMBOLS) == i]
            assert per_topic == sorted(per_topic)
