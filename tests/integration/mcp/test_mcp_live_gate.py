"""``/mcp`` on a hub whose node trades live (on an in-process venue): a live order needs
``mcp.allow_live`` and stays under the per-order cap; refusals reach nothing and are audited.
The SDK's own client over streamable HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client import CollectorRegistry

from stockyard.api import Control, HealthServer, enable_control, health_app
from stockyard.bus import InProcessBus
from stockyard.config import RiskSettings, load_settings
from stockyard.core import Bar, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import NodeConfig, NodeThread, TradingNode, VenueClock
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.mcp import mount_mcp
from stockyard.services import Caller, LocalNodeClient, admin_key_path
from stockyard.store import KeyScope, RunMode, open_database
from stockyard.strategy import BarRow, Strategy

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


class Idle(Strategy):
    """Holds nothing and sends nothing."""

    name = "idle"

    def on_bar(self, bar: BarRow) -> None:
        return None


class LiveHub:
    """A live-mode node on a simulated venue, and the hub with /api/v1 and /mcp."""

    def __init__(self, home: Path, **mcp: object) -> None:
        overrides = {"home": str(home), **{f"mcp.{k}": v for k, v in mcp.items()}}
        self.settings = load_settings(overrides=overrides)
        self.clock = VenueClock(START)
        self.exchange = SimExchange(clock=self.clock.now, calendar=MarketCalendar.always_open())
        self.exchange.add_asset(Asset.stock("AAPL"))
        self.exchange.open_account("acct", cash=Decimal(100_000))
        self.node = TradingNode(
            strategies=[Idle(symbols=["AAPL"])],
            broker=SimBroker(self.exchange, account_id="acct"),
            database=open_database(self.settings),
            bus=InProcessBus(registry=CollectorRegistry()),
            clock=self.clock,
            risk=RiskSettings(max_order_qty=Decimal(1000)),
            config=NodeConfig(mode=RunMode.LIVE, tick_s=0.05),
        )
        self.thread = NodeThread(self.node).start()
        app = health_app(self.settings, metrics=CollectorRegistry())
        self.control: Control = enable_control(
            app,
            self.settings,
            host="127.0.0.1",
            nodes={"main": LocalNodeClient(self.node, loop=self.thread.loop)},
            buses=(self.node.bus,),
        )
        self.mcp = mount_mcp(app, self.control.services, self.settings)
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()
        self.admin = admin_key_path(self.settings.home).read_text().strip()

    def price(self, close: float) -> None:
        """A bar and a trade at ``close``, seen by the venue, the node and the hub."""
        loop = self.thread.loop
        assert loop is not None
        bar = Bar("AAPL", START, close, close + 0.5, close - 0.5, close, 1_000.0)
        at = START + timedelta(seconds=1)
        self.clock.observe(at)
        trade = Trade("AAPL", at, close, 1_000.0)
        self.exchange.on_bar(bar)
        self.exchange.on_trade(trade)
        loop.call_soon_threadsafe(self.node.bus.publish, "md.bar.AAPL", bar)
        loop.call_soon_threadsafe(self.node.bus.publish, "md.trade.AAPL", trade)
        events = self.control.services.events
        deadline = time.monotonic() + 5
        while not any(e.subject == "AAPL" for e in events.since(0, ("trades",))):
            if time.monotonic() > deadline:
                pytest.fail("the hub never saw the trade")
            time.sleep(0.005)

    def call(self, tool: str, arguments: dict[str, Any], *, key: str | None = None) -> Any:
        async def go() -> Any:
            headers = {"Authorization": f"Bearer {key or self.admin}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(f"{self.server.url}/mcp", http_client=http)) as c,
            ):
                result = await c.call_tool(tool, arguments)
                if result.is_error:
                    return {"error": getattr(result.content[0], "text", "")}
                return result.structured_content

        return asyncio.run(go())

    def close(self) -> None:
        self.server.stop()
        self.control.close()
        self.thread.stop()


@pytest.fixture
def make_hub(tmp_path: Path) -> Iterator[Any]:
    made: list[LiveHub] = []

    def make(**mcp: object) -> LiveHub:
        hub = LiveHub(tmp_path / f"home{len(made)}", **mcp)
        made.append(hub)
        hub.price(100.0)
        return hub

    try:
        yield make
    finally:
        for hub in made:
            hub.close()


ORDER = {"symbol": "AAPL", "side": "buy", "qty": "5", "client_order_id": "live-1"}


def test_a_live_order_is_refused_unless_live_is_allowed_for_mcp(make_hub: Any) -> None:
    hub = make_hub()
    mode = hub.call("get_trading_mode", {})
    assert mode["mode"] == "live"
    assert mode["live_orders_allowed"] is False
    answer = hub.call("place_order", ORDER)
    assert "live_not_allowed" in answer["error"]
    assert "--allow-live" in answer["error"]
    assert hub.exchange.list_orders("acct", status="all") == []
    entry = hub.control.services.access.audit(action="orders.submit")[0]
    assert entry.ok is False
    assert entry.via == "mcp"
    assert entry.result.startswith("live_not_allowed")


def test_with_live_allowed_an_order_under_the_cap_goes_through_risk_to_the_venue(
    make_hub: Any,
) -> None:
    hub = make_hub(allow_live=True)
    assert hub.call("get_trading_mode", {})["live_orders_allowed"] is True
    placed = hub.call("place_order", ORDER)
    assert placed["accepted"] is True, placed
    deadline = time.monotonic() + 5
    while not hub.exchange.list_orders("acct", status="all"):
        if time.monotonic() > deadline:
            pytest.fail("the order never reached the venue")
        time.sleep(0.005)


def test_with_live_allowed_an_order_over_the_cap_is_refused_with_the_reason(
    make_hub: Any,
) -> None:
    hub = make_hub(allow_live=True, max_order_notional="1000")
    answer = hub.call("place_order", {**ORDER, "qty": "11"})
    assert "over_mcp_cap" in answer["error"]
    assert "1100.00 USD" in answer["error"]
    assert "cap of 1000 USD" in answer["error"]
    limit = {**ORDER, "qty": "30", "type": "limit", "limit_price": "40"}  # 1,200 at its limit
    assert "about 1200.00 USD" in hub.call("place_order", limit)["error"]
    assert hub.exchange.list_orders("acct", status="all") == []


def test_a_read_key_reads_the_account_but_may_not_halt(make_hub: Any) -> None:
    hub = make_hub()
    reader = hub.control.services.access.create_key("r", KeyScope.READ, caller=Caller.local())
    assert "forbidden" in hub.call("halt_trading", {}, key=reader.secret)["error"]
    assert hub.call("get_account", {}, key=reader.secret)["node"] == "main"


def test_mcp_off_in_the_settings_serves_nothing_at_mcp(tmp_path: Path) -> None:
    hub = LiveHub(tmp_path / "home", enabled=False)
    try:
        assert hub.mcp is None
        answer = httpx.post(f"{hub.server.url}/mcp", headers={"X-API-Key": hub.admin}, json={})
        assert answer.status_code == 404
    finally:
        hub.close()


def _from(hub: LiveHub, client: tuple[str, int]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=hub.server.app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5555") as http:
            return await http.post("/mcp", json={}, headers={"X-API-Key": hub.admin})

    return asyncio.run(go())


def test_mcp_answers_only_this_machine_unless_remote_is_allowed(make_hub: Any) -> None:
    hub = make_hub()
    refused = _from(hub, ("192.0.2.7", 40000))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    remote = make_hub(allow_remote=True)
    reached = _from(remote, ("192.0.2.7", 40000))  # past the gate: the MCP server answers
    assert reached.status_code == 400
    assert reached.json()["jsonrpc"] == "2.0"
