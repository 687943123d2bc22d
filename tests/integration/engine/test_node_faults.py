"""Issue 6's fault bar: with the sandbox injecting 10% 5xx, 2% timeouts and a stream
disconnect every 20 s, an accelerated 5-minute session (sandbox time) ends with the same
positions as a fault-free run over the same data.

Each run is a fresh sandbox (same seed, same synthetic data, same start) and a node built
by ``build_node`` — the wiring ``stockyard run`` uses: AlpacaBroker, AlpacaFeed with
minute-bar gaps back-filled over REST. The bot buys on up bars and sells on down bars,
so the positions at the end are a function of the bars alone, provided every bar arrives
(back-filled after a disconnect) and every order reaches the sandbox once and fills.
The faulty session runs at speed 6 (50 s of wall time: two disconnects of each stream),
the fault-free one at speed 60.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from tests.integration.engine.conftest import sandbox_positions
from tests.integration.sandbox.conftest import KEY, SECRET, START, make_config

from stockyard.bus import InProcessBus
from stockyard.config import load_settings
from stockyard.core import to_ns
from stockyard.data.feeds import AlpacaFeed
from stockyard.engine import NodeConfig, TradingNode, build_node
from stockyard.execution.oms import OmsConfig
from stockyard.sandbox import FaultConfig, SandboxServer
from stockyard.store import open_database
from stockyard.strategy import BarRow, Strategy, param

SYMBOLS = ("AAPL", "MSFT", "SPY", "NVDA", "AMD", "TSLA")
SESSION = timedelta(minutes=5)
SETTLE = timedelta(seconds=90)  # later bars reveal (and back-fill) a gap at the very end
FAULTS = FaultConfig(
    seed=11,
    error_rates={500: 0.05, 503: 0.05},
    timeout_rate=0.02,
    timeout_s=1.0,
    ws_disconnect_every_s=20,
)


class BarTarget(Strategy):
    """Before ``until_ns``: buys ``qty`` on an up bar, sells ``qty`` on a down bar while it
    has asked for some; ``state["planned"]`` is what it has asked for, per symbol."""

    name = "bar_target"
    qty: int = param(5, ge=1)
    until_ns: int = param(0, ge=0)

    def on_bar(self, bar: BarRow) -> None:
        if bar.ts >= self.until_ns:
            return
        planned = self.state.setdefault("planned", {})
        assert isinstance(planned, dict)
        held = planned.get(bar.symbol, 0)
        assert isinstance(held, int)
        if bar.close > bar.open:
            self.buy(bar.symbol, self.qty)
            planned[bar.symbol] = held + self.qty
        elif bar.close < bar.open and held >= self.qty:
            self.sell(bar.symbol, self.qty)
            planned[bar.symbol] = held - self.qty


async def _until(check: Callable[[], object], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _session(server: SandboxServer, database: Path, *, speed: float) -> TradingNode:
    settings = load_settings(overrides={"alpaca.key_id": KEY, "alpaca.secret_key": SECRET})
    bot = BarTarget(symbols=SYMBOLS, until_ns=to_ns(START + SESSION))
    node = build_node(
        settings,
        strategies=[bot],
        broker="sandbox",
        bus=InProcessBus(registry=CollectorRegistry()),
        sandbox_url=server.base_url,
        database=open_database(f"sqlite:///{database}"),
        config=NodeConfig(reconcile_every_s=2.0, tick_s=0.2),
        # The order manager gives up an order that could not be sent within its resend window
        # of *market* time (default 5 minutes: the moment has passed). At speed 6 every 30 s
        # the broker's circuit breaker stays open is 3 sandbox minutes, so the accelerated
        # session allows the window those outages take in real time.
        oms=OmsConfig(resubmit_window=timedelta(minutes=30), component="trading"),
    )
    await node.start()
    feed = node.feed
    assert isinstance(feed, AlpacaFeed)
    await _until(lambda: feed.acknowledged >= set(SYMBOLS), within=30, what="the subscriptions")
    server.sandbox.set_speed(speed)
    end = START + SESSION + SETTLE
    await _until(
        lambda: server.sandbox.clock.now() >= end, within=600 / speed + 60, what="the session"
    )
    manager = node.manager
    assert manager is not None
    # The broker's breaker counts what a caller sees (after retries) and backs off from 2 s,
    # so 12 % injected errors seldom open it, and never for long.
    await _until(lambda: not manager.open_orders(), within=60, what="every order to settle")
    await node.stop()
    return node


def _run(
    tmp_path: Path, name: str, *, speed: float, faults: FaultConfig
) -> tuple[dict[str, Decimal], TradingNode]:
    server = SandboxServer(make_config(symbols=SYMBOLS, speed=0.0, faults=faults)).start()
    try:
        node = asyncio.run(_session(server, tmp_path / f"{name}.db", speed=speed))
        return sandbox_positions(server), node
    finally:
        server.stop()


@pytest.mark.timeout(300)  # two sessions: 50 s of wall time for the faulty one
def test_a_faulty_session_ends_with_the_positions_of_a_fault_free_one(tmp_path: Path) -> None:
    calm, calm_node = _run(tmp_path, "calm", speed=60.0, faults=FaultConfig())
    rough, rough_node = _run(tmp_path, "rough", speed=6.0, faults=FAULTS)

    assert calm, "the bot should hold something after the session"
    assert rough == calm
    for node in (calm_node, rough_node):
        assert node.kernel is not None
        assert not node.kernel.refusals
        assert not node.kernel.runner.failures
    # The faults did happen: streams were dropped and reconnected, REST calls failed.
    assert rough_node.manager is not None
    assert rough_node.manager.reconnects >= 1
    assert rough_node.feed is not None
    reconnects = rough_node.feed.stats()["reconnects"]
    assert isinstance(reconnects, int)
    assert reconnects >= 1
    assert rough_node.errors.recent(), "no REST call met a fault"
