"""A real sandbox on 127.0.0.1 (port 0), paused at 10:00 New York on a trading day, for the
AlpacaBroker (the real alpaca-py clients) to trade against."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.sandbox import SandboxConfig, SandboxServer

# pytest imports test modules by path (importlib mode): put the shared helpers on the path.
sys.path.insert(0, str(Path(__file__).parent))

from sandbox_env import KEY, SECRET, START, SYMBOLS


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox (state in memory), two minutes into the session: every symbol has a
    quote, so marketable orders fill at once."""
    config = SandboxConfig(
        key_id=KEY,
        secret_key=SECRET,
        port=0,
        symbols=SYMBOLS,
        start=START,
        speed=0.0,
        cash=Decimal(100_000),
    )
    server = SandboxServer(config).start()
    try:
        target = server.sandbox.clock.now() + timedelta(seconds=120)
        server.submit(server.sandbox.step_to(target)).result(60)
        yield server
    finally:
        server.stop()
