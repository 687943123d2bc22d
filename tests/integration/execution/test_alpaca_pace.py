"""Issue 14 item 6: every REST client of an Alpaca key (the broker, the historical data
source, hence the feed's back-fill) goes through the key's one pacer in the process, and a
429 holds them all until the reset the server names. The sandbox enforces Alpaca's limit
(``rate_limit_per_min``); the clients' limiter and the sandbox's windows read one injected
clock, so a minute's wait takes no time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.integration.sandbox.conftest import KEY, SECRET, START, make_config

from stockyard.config import AlpacaSettings
from stockyard.core import Timeframe
from stockyard.data import AlpacaSource
from stockyard.engine._node_health import pace
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.health import HealthStatus
from stockyard.resilience import RateLimitedError, RateLimiter
from stockyard.sandbox import SandboxServer

LIMIT = 5  # the sandbox's requests per key a minute


class FakeTime:
    """Wall seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def limited() -> Iterator[tuple[SandboxServer, FakeTime]]:
    server = SandboxServer(make_config(symbols=("AAPL",), rate_limit_per_min=LIMIT)).start()
    fake = FakeTime()
    server.sandbox.rate_limiter.clock = fake.clock
    try:
        yield server, fake
    finally:
        server.stop()


def _clients(
    server: SandboxServer, limiter: RateLimiter | None
) -> tuple[AlpacaBroker, AlpacaSource]:
    broker = AlpacaBroker(
        key_id=KEY,
        secret_key=SECRET,
        base_url=server.base_url,
        rate_limiter=limiter,
        retry_attempts=3,
        retry_sleep=lambda _s: asyncio.sleep(0),
    )
    source = AlpacaSource(key_id=KEY, secret_key=SECRET, url=server.base_url, rate_limiter=limiter)
    return broker, source


async def _calls(broker: AlpacaBroker, source: AlpacaSource, reads: int) -> None:
    """The broker connects (one request), then ``reads`` more alternate between the broker
    and the source."""
    await broker.connect()
    try:
        for i in range(reads):
            if i % 2:
                await broker.account()
            else:
                bars = source.get_bars(
                    ["AAPL"], Timeframe.parse("1Min"), START - timedelta(hours=1), START
                )
                assert bars["AAPL"].num_rows > 0
    finally:
        await broker.close()


def test_the_broker_and_the_data_source_share_the_keys_pace_and_are_never_refused(
    limited: tuple[SandboxServer, FakeTime],
) -> None:
    server, fake = limited
    limiter = RateLimiter("alpaca:test", limit=LIMIT, clock=fake.clock, sleep=fake.sleep)
    broker, source = _clients(server, limiter)
    asyncio.run(_calls(broker, source, reads=2 * LIMIT))  # 11 requests over a limit of 5
    snap = limiter.snapshot()
    assert snap["responses_429"] == 0  # the sandbox never had to refuse one
    assert snap["waits"] == 2  # the 6th and the 11th waited for the next window
    assert fake.now - 1_800_000_000.0 >= 120
    # Without the pace the same calls are refused: the limit is real.
    bare_broker, bare_source = _clients(server, None)
    with pytest.raises(RateLimitedError):
        asyncio.run(_calls(bare_broker, bare_source, reads=2 * LIMIT))


def test_a_429_holds_every_client_of_the_key_until_the_reset_it_names(
    limited: tuple[SandboxServer, FakeTime],
) -> None:
    server, fake = limited
    # Our pace is looser than the server's (another process shares the key, or a stricter
    # plan): the server answers 429 and names its reset; every client waits for it.
    limiter = RateLimiter("alpaca:test", limit=100, clock=fake.clock, sleep=fake.sleep)
    broker, source = _clients(server, limiter)
    window_end = (fake.now // 60 + 1) * 60
    with pytest.raises(RateLimitedError):
        asyncio.run(_calls(broker, source, reads=LIMIT))  # the 6th request is refused
    assert limiter.snapshot()["responses_429"] == 1
    assert fake.slept == []
    observation = pace(limiter)
    assert observation.status is HealthStatus.WARN  # health says so while throttled
    assert "throttled" in observation.output
    # The next request, from the other client, waits for the reset, then passes.
    bars = source.get_bars(["AAPL"], Timeframe.parse("1Min"), START - timedelta(hours=1), START)
    assert bars["AAPL"].num_rows > 0
    assert fake.now == window_end  # held exactly until X-RateLimit-Reset
    assert limiter.snapshot()["responses_429"] == 1


def test_the_broker_and_the_source_of_one_key_get_one_limiter_from_settings() -> None:
    settings = AlpacaSettings(
        base_url="https://paper-api.alpaca.markets", key_id="PKSHARED", secret_key="s"
    )
    broker = AlpacaBroker.from_settings(settings)
    source = AlpacaSource.from_settings(settings)
    assert broker.rate_limiter is not None
    assert broker.rate_limiter is source.rate_limiter
    assert broker.rate_limiter.limit == 200
