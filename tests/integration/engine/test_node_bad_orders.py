"""Issue 6: bad orders from a strategy (negative quantity, unknown symbol, NaN price, over
the limits) are refused with a reason; nothing reaches the broker.

A negative quantity and a NaN price never make a valid ``OrderRequest``: the strategy's
verb refuses them (``invalid_order``) before risk is asked. The unknown symbol and the
limits are refused by risk. The sandbox's own order list is the witness that nothing
was sent, and the journal holds no intent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from tests.integration.engine.conftest import sandbox_orders
from tests.integration.sandbox.conftest import KEY, SECRET, make_config

from stockyard.bus import InProcessBus
from stockyard.config import load_settings
from stockyard.core import Trade
from stockyard.data.feeds import AlpacaFeed
from stockyard.engine import TradingNode, build_node
from stockyard.sandbox import SandboxServer
from stockyard.store import open_database
from stockyard.strategy import Strategy, SubmitResult


class BadOrders(Strategy):
    """On its first trade print, sends every kind of bad order once."""

    name = "bad_orders"

    def on_start(self) -> None:
        self.results: dict[str, SubmitResult] = {}

    def on_trade(self, trade: Trade) -> None:
        if self.results:
            return
        symbol = trade.symbol
        self.results = {
            "negative quantity": self.buy(symbol, -5),
            "zero quantity": self.sell(symbol, 0),
            "unknown symbol": self.buy("NOPE", 1),
            "NaN price": self.buy(symbol, 1, limit=float("nan")),
            "over max_order_qty": self.buy(symbol, 5_000),
            "over max_order_notional": self.buy(symbol, 500),
            "limit far from the last trade": self.buy(symbol, 1, limit=trade.price * 2),
        }


async def _until(check: Callable[[], object], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _trade_once(server: SandboxServer, node: TradingNode, bot: BadOrders) -> None:
    await node.start()
    try:
        feed = node.feed
        assert isinstance(feed, AlpacaFeed)
        await _until(lambda: "AAPL" in feed.acknowledged, within=30, what="the subscription")
        target = server.sandbox.clock.now() + timedelta(seconds=60)
        await asyncio.wrap_future(server.submit(server.sandbox.step_to(target)))
        await _until(lambda: bot.results, within=30, what="the bot's first trade print")
        await asyncio.sleep(0)  # any send the node had scheduled would start now
    finally:
        await node.stop()


def test_bad_orders_are_refused_with_a_reason_and_nothing_reaches_the_sandbox(
    tmp_path: Path,
) -> None:
    server = SandboxServer(make_config(symbols=("AAPL",))).start()
    try:
        settings = load_settings(
            overrides={
                "alpaca.key_id": KEY,
                "alpaca.secret_key": SECRET,
                "risk.max_order_qty": 1_000,
                "risk.max_order_notional": 50_000,
            }
        )
        bot = BadOrders(symbols=["AAPL"])
        node = build_node(
            settings,
            strategies=[bot],
            broker="sandbox",
            bus=InProcessBus(registry=CollectorRegistry()),
            sandbox_url=server.base_url,
            database=open_database(f"sqlite:///{tmp_path / 'state.db'}"),
        )
        asyncio.run(_trade_once(server, node, bot))

        codes = {what: (r.accepted, r.code) for what, r in bot.results.items()}
        assert codes == {
            "negative quantity": (False, "invalid_order"),
            "zero quantity": (False, "invalid_order"),
            "unknown symbol": (False, "unknown_symbol"),
            "NaN price": (False, "invalid_order"),
            "over max_order_qty": (False, "max_order_qty"),
            "over max_order_notional": (False, "max_notional"),
            "limit far from the last trade": (False, "price_band"),
        }
        for what, result in bot.results.items():
            assert result.reason, f"{what}: refused without a reason"
        assert sandbox_orders(server) == {}
        assert node.journal is not None
        assert node.journal.intents() == []
        assert bot.context.refused == len(bot.results)
    finally:
        server.stop()
