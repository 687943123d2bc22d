from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.core import Bar, Quote, Trade
from stockyard.data import SyntheticSource
from stockyard.data.feeds import LiveFeed, ReplayFeed

START = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


class FakeTime:
    """An injected clock whose sleep advances it; a hook may act at a given sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.hook: Any = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.hook is not None:
            self.hook(len(self.sleeps))


def replay(
    symbols: list[str],
    *,
    minutes: int = 30,
    speed: float = 60.0,
    ticks: bool = False,
    hook: Any = None,
) -> tuple[list[tuple[str, object]], FakeTime, ReplayFeed]:
    bus = InProcessBus(registry=CollectorRegistry())
    seen: list[tuple[str, object]] = []
    bus.subscribe("md.>", lambda t, m: seen.append((t, m)))
    fake = FakeTime()
    feed = ReplayFeed(
        bus=bus,
        source=SyntheticSource(seed=7),
        symbols=symbols,
        start=START,
        end=START + timedelta(minutes=minutes),
        speed=speed,
        ticks=ticks,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    if hook is not None:
        fake.hook = lambda n: hook(feed, n)

    async def run() -> None:
        await feed.start()
        await asyncio.wait_for(feed.finished.wait(), 10)
        await feed.stop()

    asyncio.run(run())
    return seen, fake, feed


def test_the_replay_feed_is_a_live_feed() -> None:
    _, _, feed = replay(["AAPL"], minutes=2)
    assert isinstance(feed, LiveFeed)


def test_replaying_twice_publishes_the_same_messages_in_time_then_symbol_order() -> None:
    first, fake, _ = replay(["MSFT", "AAPL"])
    second, _, _ = replay(["MSFT", "AAPL"])
    assert first == second
    assert len(first) == 60
    keys = [(m.timestamp, m.symbol) for _, m in first]  # type: ignore[attr-defined]
    assert keys == sorted(keys)
    assert first[0][0] == "md.bar.AAPL"
    # speed 60: 29 minutes of market time take 29 fake seconds
    assert abs(fake.now - 29.0) < 1e-6


def test_ticks_add_a_trade_and_a_quote_at_each_bar_close() -> None:
    seen, _, _ = replay(["AAPL"], minutes=3, speed=0.0, ticks=True)
    kinds = [type(m) for _, m in seen]
    assert kinds == [Bar, Trade, Quote] * 3
    bar, trade = seen[0][1], seen[1][1]
    assert trade.price == bar.close  # type: ignore[attr-defined]
    assert trade.timestamp == bar.timestamp + timedelta(minutes=1)  # type: ignore[attr-defined]


def test_a_symbol_added_mid_replay_joins_at_the_current_time_without_disturbing_others() -> None:
    def hook(feed: ReplayFeed, sleeps: int) -> None:
        if sleeps == 10:
            feed.add_symbols(["MSFT"])
        if sleeps == 20:
            feed.remove_symbols(["AAPL"])

    seen, _, _ = replay(["AAPL"], hook=hook)
    aapl = [m.timestamp for t, m in seen if t == "md.bar.AAPL"]  # type: ignore[attr-defined]
    msft = [m.timestamp for t, m in seen if t == "md.bar.MSFT"]  # type: ignore[attr-defined]
    assert aapl == [START + timedelta(minutes=i) for i in range(len(aapl))]
    assert 15 <= len(aapl) <= 25
    assert msft
    assert msft[0] > START + timedelta(minutes=5)
    assert msft[-1] == START + timedelta(minutes=29)
