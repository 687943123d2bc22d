"""A real sandbox (port 0, paused, moved by the test) as the live source of `AlpacaFeed`,
and what the feed's tests share: an in-process bus that records, polling with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.integration.sandbox.conftest import HEADERS, KEY, SECRET, make_config

from stockyard.bus import InProcessBus, MessageBus
from stockyard.data.feeds import AlpacaFeed
from stockyard.sandbox import SandboxServer


class Sandbox:
    """The running server; `advance` moves its replay clock (call it off the feed's loop)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=10)

    @property
    def connections(self) -> int:
        return self.server.sandbox.md_hub.connections

    @property
    def delivered(self) -> int:
        """Market-data messages the sandbox has written to its stream clients."""
        return self.server.sandbox.md_hub.delivered

    def advance(self, seconds: float) -> None:
        target = self.server.sandbox.clock.now() + timedelta(seconds=seconds)
        self.server.submit(self.server.sandbox.step_to(target)).result(60)

    async def advance_async(self, seconds: float) -> None:
        await asyncio.to_thread(self.advance, seconds)

    def feed(
        self,
        bus: MessageBus,
        symbols: list[str],
        *,
        secret: str = SECRET,
        stale_after: float | None = None,
    ) -> AlpacaFeed:
        return AlpacaFeed(
            bus=bus,
            key_id=KEY,
            secret_key=secret,
            stream_url=self.server.stream_url,
            symbols=symbols,
            name="sandbox",
            reconnect_backoff_s=0.05,
            stale_after=stale_after,
        )


class Recorder:
    """An in-process bus and every market-data message it carried, in order."""

    def __init__(self) -> None:
        self.bus = InProcessBus(registry=CollectorRegistry())
        self.seen: list[tuple[str, object]] = []
        self.bus.subscribe("md.>", lambda topic, message: self.seen.append((topic, message)))

    def topics(self) -> set[str]:
        return {topic for topic, _ in self.seen}

    def of(self, topic: str) -> list[object]:
        return [m for t, m in self.seen if t == topic]


async def until(
    check: Callable[[], object], *, what: str | Callable[[], str], within: float = 10.0
) -> None:
    """Poll ``check`` on the loop until it is truthy; fail naming ``what`` after ``within`` s
    (a callable ``what`` is asked at that moment, to say what the state was)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what() if callable(what) else what}")
        await asyncio.sleep(0.005)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh paused sandbox replaying AAPL, MSFT, BTC/USD and ETH/USD (synthetic data),
    two minutes into an open session of Monday 4 March 2024."""
    server = SandboxServer(make_config()).start()
    harness = Sandbox(server)
    try:
        harness.advance(120)
        yield harness
    finally:
        harness.http.close()
        server.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
