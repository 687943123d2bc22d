"""A real sandbox on 127.0.0.1 (port 0) for the real alpaca-py clients, paused at a known
moment of a trading session so each test moves the clock itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from stockyard.sandbox import SandboxConfig, SandboxServer
from stockyard.sandbox._clients import StreamThread, TradingClient

KEY, SECRET = "TESTKEY", "test-secret"
HEADERS = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
# Monday 4 March 2024, 10:00 New York: the market is open.
START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "BTC/USD", "ETH/USD")


def make_config(**overrides: object) -> SandboxConfig:
    values: dict[str, object] = {
        "key_id": KEY,
        "secret_key": SECRET,
        "port": 0,
        "symbols": SYMBOLS,
        "start": START,
        "speed": 0.0,
        "cash": Decimal(100_000),
    }
    values.update(overrides)
    return SandboxConfig(**values)  # type: ignore[arg-type]


def wait_for(check: Callable[[], object], *, timeout: float = 10.0, what: str = "") -> None:
    """Poll ``check`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or check}")
        time.sleep(0.005)


class Harness:
    """The running server plus the helpers tests share."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.sandbox = server.sandbox
        self.http = httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=10)
        self.streams: list[StreamThread] = []

    def advance(self, seconds: float) -> None:
        """Move the replay clock forward, releasing (and matching) what falls due."""
        target = self.sandbox.clock.now() + timedelta(seconds=seconds)
        self.server.submit(self.sandbox.step_to(target)).result(60)

    def trading(self, **kwargs: object) -> TradingClient:
        return TradingClient(KEY, SECRET, url_override=self.server.base_url, **kwargs)  # type: ignore[arg-type]

    def run_stream(self, stream: object) -> StreamThread:
        runner = StreamThread(stream).start()  # type: ignore[arg-type]
        self.streams.append(runner)
        return runner

    def close(self) -> None:
        for runner in self.streams:
            runner.stop(kick=self.server.disconnect_streams)
        self.http.close()


def _start(config: SandboxConfig) -> Iterator[Harness]:
    server = SandboxServer(config).start()
    harness = Harness(server)
    try:
        harness.advance(120)  # two minutes of data: every symbol has a quote and a price
        yield harness
    finally:
        harness.close()
        server.stop()


@pytest.fixture
def sandbox() -> Iterator[Harness]:
    """A fresh sandbox, state in memory only."""
    yield from _start(make_config())


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"
