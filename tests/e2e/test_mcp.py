"""The MCP server as an assistant reaches it, with the SDK's own client: over streamable HTTP
at ``/mcp`` of a running ``stockyard up`` (sandbox, node, hub), and over stdio from a real
``stockyard mcp`` process against that system; orders checked at the sandbox."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import httpx2
import orjson
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextResourceContents

from stockyard.client import StockyardClient
from stockyard.sandbox._clients import TradingClient  # alpaca-py, its import warning silenced

from alpaca.common.exceptions import APIError  # isort: skip  # after alpaca-py's first import
from alpaca.trading.enums import QueryOrderStatus  # isort: skip
from alpaca.trading.requests import GetOrdersRequest  # isort: skip

# The first test also starts the system (about 20 s idle, more on a loaded machine).
pytestmark = pytest.mark.timeout(300)
T = TypeVar("T")
STOCKYARD = [sys.executable, "-m", "stockyard"]
KEY, SECRET = "mcp-e2e-key", "mcp-e2e-secret"
READS = {
    "get_trading_mode", "get_account", "get_positions", "get_orders", "get_fills", "get_pnl",
    "get_bars", "get_quote", "get_snapshot", "list_bots", "list_strategies", "get_job",
    "get_health", "get_errors", "get_alerts", "list_models", "get_model",
}  # fmt: skip
DESTRUCTIVE = {
    "place_order", "replace_order", "cancel_order", "close_position", "halt_trading",
    "set_bot_params",
}  # fmt: skip
OTHERS = {"pause_bot", "resume_bot", "run_backtest", "run_walkforward", "run_montecarlo"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
        env.pop(name, None)
    return env | {"STOCKYARD_HOME": str(home), "NO_COLOR": "1"} | extra


def _until(check: Callable[[], T | None], *, within: float, what: str) -> T:
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class System:
    """A running ``stockyard up`` and how to reach it."""

    home: Path
    url: str
    sandbox_url: str
    admin: str
    process: subprocess.Popen[bytes]

    def key(self, name: str, scope: str) -> str:
        with StockyardClient(self.url, key=self.admin) as client:
            return client.create_key(name, scope).secret

    def call(self, tool: str, arguments: dict[str, Any], *, key: str | None = None) -> Any:
        """One tool call over /mcp; the structured result, or the error text."""
        return asyncio.run(over_http(self, key or self.admin, lambda c: call(c, tool, arguments)))

    def broker(self) -> TradingClient:
        return TradingClient(KEY, SECRET, paper=True, url_override=self.sandbox_url)


def _sandbox_ids(system: System) -> list[str]:
    request = GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500)
    return [str(o.client_order_id) for o in system.broker().get_orders(request)]  # type: ignore[union-attr]


def _hand_orders(system: System) -> set[str]:
    """Orders placed by hand (MCP, REST, CLI) at the sandbox; the bots' have their own ids."""
    return {i for i in _sandbox_ids(system) if i.startswith("manual-")}


def _sandbox_order(system: System, client_order_id: str) -> Any | None:
    try:
        return system.broker().get_order_by_client_id(client_order_id)
    except APIError:
        return None


async def over_http(system: System, key: str, work: Callable[[Client], Awaitable[T]]) -> T:
    async with (
        httpx2.AsyncClient(headers={"X-API-Key": key}, timeout=60) as http,
        Client(streamable_http_client(f"{system.url}/mcp", http_client=http)) as client,
    ):
        return await work(client)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    if result.is_error:
        text = result.content[0]
        return {"error": getattr(text, "text", str(text))}
    return result.structured_content


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    home = tmp_path_factory.mktemp("mcp-home")
    port, sandbox_port = _free_port(), _free_port()
    env = _env(
        home,
        HEALTH_API_PORT=str(port),
        STOCKYARD_SANDBOX__PORT=str(sandbox_port),
        STOCKYARD_SANDBOX__SPEED="10",  # the replayed session lasts 39 minutes
        APCA_API_KEY_ID=KEY,
        APCA_API_SECRET_KEY=SECRET,
        LOG_LEVEL="WARNING",
    )
    with (home / "up.log").open("wb") as log:
        process = subprocess.Popen([*STOCKYARD, "up"], env=env, stdout=log, stderr=log, cwd=home)
    url = f"http://127.0.0.1:{port}"
    key_file = home / "run" / "admin.key"

    def ready() -> bool:
        assert process.poll() is None, (home / "up.log").read_text()[-3000:]
        try:
            return key_file.exists() and httpx.get(f"{url}/livez").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _until(ready, within=180, what="stockyard up")
        made = System(
            home, url, f"http://127.0.0.1:{sandbox_port}", key_file.read_text().strip(), process
        )
        _until(
            lambda: "price" in made.call("get_quote", {"symbol": "AAPL"}),
            within=120,
            what="a live price of AAPL",
        )
        yield made
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_the_tools_are_listed_with_schemas_one_line_descriptions_and_hints(system: System) -> None:
    tools = asyncio.run(over_http(system, system.admin, lambda c: c.list_tools())).tools
    by_name = {t.name: t for t in tools}
    assert set(by_name) == READS | DESTRUCTIVE | OTHERS
    for tool in tools:
        assert tool.description, tool.name
        assert "\n" not in tool.description.strip(), tool.name
        assert tool.input_schema["type"] == "object", tool.name
        hints = tool.annotations
        assert hints is not None, tool.name
        assert hints.read_only_hint is (tool.name in READS), tool.name
        assert hints.destructive_hint is (tool.name in DESTRUCTIVE), tool.name
    order = by_name["place_order"]
    assert set(order.input_schema["required"]) == {"symbol", "side", "client_order_id"}
    assert order.input_schema["properties"]["side"]["enum"] == ["buy", "sell"]
    assert order.annotations is not None
    assert order.annotations.idempotent_hint is True
    assert by_name["get_account"].output_schema is not None


def test_the_account_and_the_trading_mode_are_read(system: System) -> None:
    account = system.call("get_account", {})
    assert Decimal(account["equity"]) > 0
    mode = system.call("get_trading_mode", {})
    assert mode["mode"] == "sandbox"
    assert mode["kill"]["halted"] is False
    assert mode["live_orders_allowed"] is False
    assert mode["transport"] == "http"


def test_an_order_fills_at_the_sandbox_once_however_often_it_is_sent(system: System) -> None:
    ticket = {"symbol": "AAPL", "side": "buy", "qty": "2", "client_order_id": "mcp-fill-1"}
    first = system.call("place_order", ticket)
    assert first["accepted"] is True, first
    again = system.call("place_order", ticket)
    assert again["client_order_id"] == first["client_order_id"]
    placed = _until(
        lambda: (o := _sandbox_order(system, first["client_order_id"])) and o.filled_at and o,
        within=60,
        what="the order filled at the sandbox",
    )
    assert Decimal(str(placed.filled_qty)) == 2
    ids = _sandbox_ids(system)
    assert ids.count(first["client_order_id"]) == 1


def test_the_books_the_market_and_the_catalog_are_read(system: System) -> None:
    snapshot = system.call("get_snapshot", {"symbol": "aapl"})
    assert snapshot["symbol"] == "AAPL"
    assert snapshot["trade"]["price"] > 0
    assert isinstance(snapshot["open_orders"], list)
    assert system.call("get_positions", {})["node"] == "sandbox"  # node@sandbox
    assert "by_bot" in system.call("get_pnl", {})
    assert "fills" in system.call("get_fills", {"limit": 5})
    bars = system.call(
        "get_bars",
        {"symbol": "AAPL", "start": "2025-04-01T13:30:00Z", "end": "2025-04-01T14:00:00Z"},
    )
    assert len(bars["bars"]) == 30
    strategies = {s["name"]: s for s in system.call("list_strategies", {})["result"]}
    assert {"sma_cross", "mean_reversion"} <= set(strategies)
    assert system.call("get_health", {})["status"] in ("pass", "warn", "fail")


def test_the_resources_are_read_and_the_settings_hide_every_secret(system: System) -> None:
    async def read(client: Client) -> tuple[list[str], str, str]:
        uris = [str(r.uri) for r in (await client.list_resources()).resources]
        settings = (await client.read_resource("stockyard://settings")).contents[0]
        doc = (await client.read_resource("stockyard://strategies/sma_cross")).contents[0]
        assert isinstance(settings, TextResourceContents)
        assert isinstance(doc, TextResourceContents)
        return uris, settings.text, doc.text

    uris, settings, doc = asyncio.run(over_http(system, system.admin, read))
    assert set(uris) == {"stockyard://strategies", "stockyard://backtests", "stockyard://settings"}
    assert SECRET not in settings
    assert system.admin not in settings
    assert orjson.loads(settings)["alpaca"]["secret_key"] == "**********"
    assert doc.startswith("# sma_cross")


def test_an_order_refused_by_risk_reaches_nothing_and_is_audited(system: System) -> None:
    before = _hand_orders(system)
    answer = system.call(
        "place_order",
        {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "limit", "limit_price": "1",
         "client_order_id": "mcp-risk-1"},
    )  # fmt: skip
    assert answer["error"].startswith("Error executing tool place_order: price_band"), answer
    assert _hand_orders(system) == before
    with StockyardClient(system.url, key=system.admin) as client:
        entries = client.audit(action="orders.submit", limit=20)
    refused = [e for e in entries if e.args.get("client_order_id") == "mcp-risk-1"]
    assert refused
    assert not refused[0].ok
    assert refused[0].via == "mcp"
    assert refused[0].key_name == "local-admin"


def test_an_order_over_the_per_order_cap_is_refused_with_the_reason(system: System) -> None:
    before = _hand_orders(system)
    answer = system.call(
        "place_order", {"symbol": "AAPL", "side": "buy", "qty": "400", "client_order_id": "mcp-c"}
    )
    assert "over_mcp_cap" in answer["error"]
    assert "10000 USD" in answer["error"]
    assert _hand_orders(system) == before


def test_a_bot_is_paused_and_resumed(system: System) -> None:
    paused = system.call("pause_bot", {"bot_id": "sma_cross"})
    assert paused["paused"] is True
    bots = {b["bot_id"]: b for b in system.call("list_bots", {})["bots"]}
    assert bots["sma_cross"]["paused"] is True
    assert system.call("resume_bot", {"bot_id": "sma_cross"})["paused"] is False


def test_a_backtest_runs_as_a_job_and_its_result_is_read(system: System) -> None:
    started = system.call(
        "run_backtest",
        {"strategy": "sma_cross", "symbols": ["AAPL"], "start": "2025-04-01", "end": "2025-04-08",
         "params": {"fast": 5, "slow": 20}},
    )  # fmt: skip
    job_id = started["job"]["id"]
    done = _until(
        lambda: (j := system.call("get_job", {"job_id": job_id}))["job"]["state"] == "done" and j,
        within=120,
        what="the backtest job",
    )
    assert "metrics" in done["job"]["result"]
    assert done["report"] == f"stockyard://backtests/{done['job']['result_id']}"

    async def read(client: Client) -> Any:
        return await client.read_resource(done["report"])

    contents = asyncio.run(over_http(system, system.admin, read)).contents[0]
    assert isinstance(contents, TextResourceContents)
    summary = orjson.loads(contents.text)
    assert summary["strategy"] == "sma_cross"
    assert summary["metrics"]["num_trades"] == done["job"]["result"]["trades"]


def test_a_read_key_reads_but_cannot_call_a_destructive_tool(system: System) -> None:
    reader = system.key("mcp-reader", "read")
    before = _hand_orders(system)
    assert "equity" in system.call("get_account", {}, key=reader)
    for tool, arguments in (
        ("halt_trading", {}),
        ("place_order", {"symbol": "AAPL", "side": "buy", "qty": "1", "client_order_id": "r-1"}),
        ("cancel_order", {"client_order_id": "r-1"}),
    ):
        answer = system.call(tool, arguments, key=reader)
        assert "forbidden" in answer["error"], (tool, answer)
    assert system.call("get_trading_mode", {})["kill"]["halted"] is False
    assert _hand_orders(system) == before


def test_mcp_over_http_refuses_a_request_without_a_valid_key(system: System) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    assert httpx.post(f"{system.url}/mcp", json=body).status_code == 401
    wrong = httpx.post(f"{system.url}/mcp", json=body, headers={"X-API-Key": "sy_0000000_nope"})
    assert wrong.status_code == 401
    assert "sy_0000000_nope" not in wrong.text


def test_stdio_serves_the_same_tools_against_the_running_system(system: System) -> None:
    env = _env(system.home, STOCKYARD_URL=system.url)
    params = StdioServerParameters(command=STOCKYARD[0], args=[*STOCKYARD[1:], "mcp"], env=env)

    async def session() -> tuple[set[str], Any, Any, Any]:
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            mode = await call(client, "get_trading_mode", {})
            paused = await call(client, "pause_bot", {"bot_id": "mean_reversion"})
            await call(client, "resume_bot", {"bot_id": "mean_reversion"})
            ticket = {"symbol": "AAPL", "side": "buy", "qty": "1", "client_order_id": "stdio-1"}
            return names, mode, paused, await call(client, "place_order", ticket)

    names, mode, paused, placed = asyncio.run(session())
    assert names == READS | DESTRUCTIVE | OTHERS
    assert mode["transport"] == "stdio"
    assert mode["mode"] == "sandbox"
    assert paused["paused"] is True
    assert placed["accepted"] is True, placed
    _until(
        lambda: (o := _sandbox_order(system, placed["client_order_id"])) and o.filled_at,
        within=60,
        what="the stdio order filled at the sandbox",
    )


def test_stockyard_mcp_says_clearly_when_no_system_runs(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{_free_port()}"
    result = subprocess.run(
        [*STOCKYARD, "mcp"],
        env=_env(tmp_path, STOCKYARD_URL=nowhere),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"stockyard: no Stockyard system is running at {nowhere} (start one: stockyard up; "
        "or point STOCKYARD_URL at it)"
    )


def test_halt_trading_leaves_the_node_halted_until_an_admin_resets_it(system: System) -> None:
    before = _hand_orders(system)
    state = system.call("halt_trading", {"reason": "assistant saw a problem"})
    assert state == {"halted": True, "reason": "assistant saw a problem", "daily_halt": None}
    assert system.call("get_trading_mode", {})["kill"]["halted"] is True
    refused = system.call(
        "place_order", {"symbol": "AAPL", "side": "buy", "qty": "1", "client_order_id": "h-1"}
    )
    assert "kill_switch" in refused["error"]
    assert _hand_orders(system) == before
    _until(
        lambda: system.call("get_orders", {})["orders"] == [],
        within=30,
        what="the halt to cancel every open order",
    )
    with StockyardClient(system.url, key=system.admin) as client:
        client.reset()
    assert system.call("get_trading_mode", {})["kill"]["halted"] is False
