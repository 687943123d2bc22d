"""``/api/v1`` over a real hub (uvicorn in a thread) and a node on a loop of its own trading
on an in-process venue: keys and scopes on every route, errors, orders, the audit log,
events with resume."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from stockyard.api import Control, HealthServer, enable_control, first_admin_key, health_app
from stockyard.api._v1_auth import is_loopback
from stockyard.bus import InProcessBus
from stockyard.config import RiskSettings, load_settings
from stockyard.core import Bar, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import NodeConfig, NodeThread, TradingNode, VenueClock
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.services import Caller, LocalNodeClient, admin_key_path
from stockyard.store import KeyScope, open_database
from stockyard.strategy import BarRow, Strategy

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


class Idle(Strategy):
    """Holds nothing and sends nothing: a bot to pause and resume."""

    name = "idle"

    def on_bar(self, bar: BarRow) -> None:
        return None


class Hub:
    """A venue, a node thread on it, and the hub app with /api/v1 served on loopback."""

    def __init__(self, home: Path) -> None:
        self.settings = load_settings(overrides={"home": str(home)})
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
            config=NodeConfig(tick_s=0.05),
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
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()
        self.admin = admin_key_path(self.settings.home).read_text().strip()
        self.minute = 0

    def key(self, name: str, scope: KeyScope) -> str:
        made = self.control.services.access.create_key(name, scope, caller=Caller.local())
        return made.secret

    def on_node(self, fn: object, *args: object) -> None:
        loop = self.thread.loop
        assert loop is not None
        loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]

    def bar(self, close: float = 100.0) -> None:
        at = START + timedelta(minutes=self.minute)
        self.minute += 1
        bar = Bar("AAPL", at, close, close + 0.5, close - 0.5, close, 1_000.0)
        self.exchange.on_bar(bar)
        self.on_node(self.node.bus.publish, "md.bar.AAPL", bar)

    def trade(self, price: float = 100.0) -> None:
        at = START + timedelta(minutes=self.minute, seconds=1)
        self.clock.observe(at)
        trade = Trade("AAPL", at, price, 1_000.0)
        self.exchange.on_trade(trade)
        self.on_node(self.node.bus.publish, "md.trade.AAPL", trade)

    def close(self) -> None:
        self.server.stop()
        self.control.close()
        self.thread.stop()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    made = Hub(tmp_path / "home")
    try:
        yield made
    finally:
        made.close()


def until(check: object, *, what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def routes(hub: Hub) -> list[tuple[str, str]]:
    found = []
    for path, operations in hub.server.app.openapi()["paths"].items():
        if path.startswith("/api/v1"):
            concrete = re.sub(r"\{[^}]+\}", "x1", path)
            found += [(method.upper(), concrete) for method in sorted(operations)]
    assert len(found) >= 40
    return found


def test_every_route_needs_a_key_and_a_revoked_key_is_refused(hub: Hub) -> None:
    revoked = hub.key("gone", KeyScope.ADMIN)
    hub.control.services.access.revoke_key("gone", caller=Caller.local())
    with httpx.Client(base_url=hub.server.url) as client:
        for method, path in routes(hub):
            bare = client.request(method, path)
            assert bare.status_code == 401, (method, path)
            assert bare.json()["code"] == "unauthorized"
            for headers in ({"X-API-Key": revoked}, {"Authorization": f"Bearer {revoked}"}):
                assert client.request(method, path, headers=headers).status_code == 401
            assert revoked not in bare.text


def test_a_read_key_may_read_but_every_control_route_is_forbidden(hub: Hub) -> None:
    reader = {"X-API-Key": hub.key("reader", KeyScope.READ)}
    admin_only = {"/api/v1/keys", "/api/v1/audit"}
    with httpx.Client(base_url=hub.server.url) as client:
        for method, path in routes(hub):
            if method == "GET" and path == "/api/v1/events":
                continue  # a stream; its refusals are checked above
            answer = client.request(method, path, headers=reader, json={})
            if method != "GET" or path in admin_only:
                assert answer.status_code in (403, 422), (method, path, answer.text)
                if answer.status_code == 422:  # the body is checked before the scope
                    continue
                assert answer.json()["code"] == "forbidden"
            else:
                assert answer.status_code not in (401, 403), (method, path)
    denied = [e for e in hub.control.services.access.audit() if e.key_name == "reader"]
    assert denied
    assert all(not e.ok for e in denied)


def test_an_order_placed_over_the_api_fills_is_audited_and_secrets_never_show(hub: Hub) -> None:
    trader = hub.key("trader", KeyScope.TRADE)
    auth = {"Authorization": f"Bearer {trader}"}
    hub.bar()
    with httpx.Client(base_url=hub.server.url, headers=auth) as client:
        placed = client.post("/api/v1/orders", json={"symbol": "AAPL", "side": "buy", "qty": "3"})
        assert placed.status_code == 200, placed.text
        cid = placed.json()["client_order_id"]
        until(lambda: client.get(f"/api/v1/orders/{cid}").json()["status"] == "new", what="ack")
        hub.trade()
        until(lambda: client.get("/api/v1/positions").json()["positions"], what="the fill")
        position = client.get("/api/v1/positions").json()["positions"][0]
        assert (position["symbol"], Decimal(position["qty"])) == ("AAPL", Decimal(3))
        paused = client.post("/api/v1/bots/idle/pause")
        assert paused.json()["paused"] is True
        halted = client.post("/api/v1/kill", json={"reason": "test", "flatten": True})
        assert halted.json()["halted"] is True
        hub.trade()
        until(lambda: not client.get("/api/v1/positions").json()["positions"], what="flat")
        assert client.post("/api/v1/kill/reset").status_code == 403
        bodies = [client.get(p).text for p in ("/api/v1/account", "/api/v1/bots", "/api/v1/fills")]
    with httpx.Client(base_url=hub.server.url, headers={"X-API-Key": hub.admin}) as admin:
        assert admin.post("/api/v1/kill/reset").json()["halted"] is False
        audit = admin.get("/api/v1/audit", params={"key_name": "trader"}).json()
    assert [(e["action"], e["ok"]) for e in reversed(audit)] == [
        ("orders.submit", True),
        ("bots.pause", True),
        ("kill.flatten", True),
        ("kill.reset", False),
    ]
    for text in [*bodies, str(audit)]:
        assert trader not in text
        assert hub.admin not in text
    assert hub.exchange.positions("acct") == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"symbol": "ZZZZ", "side": "buy", "qty": "1"}, "unknown_symbol"),
        ({"symbol": "AAPL", "side": "buy", "qty": "-1"}, "invalid_request"),
        ({"symbol": "AAPL", "side": "buy", "qty": "NaN"}, "invalid_request"),
        (
            {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "limit", "limit_price": "NaN"},
            "invalid_request",
        ),
        ({"symbol": "AAPL", "side": "buy", "qty": "5000"}, "max_order_qty"),
        ({"symbol": "AAPL", "side": "up", "qty": "1"}, "invalid_request"),
        ({"symbol": "AAPL", "side": "buy"}, "invalid_request"),
    ],
)
def test_a_bad_order_is_a_clear_4xx_and_nothing_reaches_the_venue(
    hub: Hub, body: dict[str, str], code: str
) -> None:
    hub.bar()
    with httpx.Client(base_url=hub.server.url, headers={"X-API-Key": hub.admin}) as client:
        answer = client.post("/api/v1/orders", json=body)
    assert answer.status_code in (400, 422)
    assert answer.json()["code"] == code
    assert answer.json()["message"]
    assert hub.exchange.list_orders("acct", status="all") == []


def test_the_event_stream_carries_orders_and_resumes_after_a_reconnect(hub: Hub) -> None:
    headers = {"X-API-Key": hub.admin}
    hub.bar()
    with httpx.Client(base_url=hub.server.url, headers=headers, timeout=10) as client:
        client.post("/api/v1/orders", json={"symbol": "AAPL", "side": "buy", "qty": "1"})
        seen: list[tuple[int, str]] = []
        with client.stream(
            "GET", "/api/v1/events", params={"topics": "orders"}, headers={"Last-Event-ID": "0"}
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    seen.append((int(line[4:]), ""))
                elif line.startswith("event: "):
                    seen[-1] = (seen[-1][0], line[7:])
                    break
        assert seen[0][1] == "orders"
        first = seen[0][0]
        client.post("/api/v1/orders", json={"symbol": "AAPL", "side": "buy", "qty": "2"})
        with client.stream(
            "GET",
            "/api/v1/events",
            params={"topics": "orders"},
            headers={"Last-Event-ID": str(first)},
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    assert int(line[4:]) > first
                    break
        bad = client.get("/api/v1/events", params={"topics": "gossip"})
        assert bad.status_code == 422
        assert bad.json()["code"] == "unknown_topic"


def test_a_fill_is_followed_on_the_event_stream_by_its_position_and_the_books(hub: Hub) -> None:
    headers = {"X-API-Key": hub.admin}
    hub.bar()
    with httpx.Client(base_url=hub.server.url, headers=headers, timeout=10) as client:
        placed = client.post("/api/v1/orders", json={"symbol": "AAPL", "side": "buy", "qty": "3"})
        assert placed.status_code == 200, placed.text
        hub.bar(101.0)  # the market order fills on this bar
        seen: list[tuple[str, dict[str, object]]] = []
        deadline = time.monotonic() + 20
        with client.stream(
            "GET",
            "/api/v1/events",
            params={"topics": "fills,positions,pnl"},
            headers={"Last-Event-ID": "0"},
        ) as stream:
            topic = ""
            for line in stream.iter_lines():
                assert time.monotonic() < deadline, f"events so far: {seen}"
                if line.startswith("event: "):
                    topic = line[7:]
                elif line.startswith("data: "):
                    seen.append((topic, json.loads(line[6:])["data"]))
                    if topic == "pnl":
                        break
        assert [t for t, _ in seen] == ["fills", "positions", "pnl"]
        position, books = seen[1][1], seen[2][1]
        cash = Decimal(str(books["cash"]))
        # the account read may lag the node by its snapshot's bound (10 ms)
        until(
            lambda: Decimal(str(client.get("/api/v1/account").json()["cash"])) == cash,
            what="the account's cash to be the books' after the fill",
        )
    assert position["symbol"] == "AAPL"
    assert Decimal(str(position["qty"])) == 3
    assert cash < Decimal(100_000)  # it paid for the shares


def test_a_public_bind_without_keys_refuses_to_start(tmp_path: Path) -> None:
    settings = load_settings(overrides={"home": str(tmp_path / "home")})
    app = health_app(settings, metrics=CollectorRegistry())
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    first = enable_control(app, settings, host="127.0.0.1")
    first.services.access.revoke_key("local-admin", caller=Caller.local())
    first.close()
    with pytest.raises(RuntimeError, match="not a loopback address"):
        enable_control(health_app(settings, metrics=CollectorRegistry()), settings, host="0.0.0.0")


def test_the_first_admin_key_is_made_once_before_a_hub_and_a_public_bind_still_refuses(
    tmp_path: Path,
) -> None:
    settings = load_settings(overrides={"home": str(tmp_path / "home")})
    with pytest.raises(RuntimeError, match="not a loopback address"):
        first_admin_key(settings, host="0.0.0.0")
    assert not admin_key_path(settings.home).exists()  # refused: nothing made
    made = first_admin_key(settings, host="127.0.0.1")
    assert made == admin_key_path(settings.home)
    assert made.stat().st_mode & 0o777 == 0o600
    assert first_admin_key(settings, host="127.0.0.1") is None  # once
    app = health_app(settings, metrics=CollectorRegistry())
    control = enable_control(app, settings, host="::1")
    try:
        assert control.admin_key is None  # the hub finds it and makes no other
        assert control.services.access.verify(made.read_text().strip()) is not None
    finally:
        control.close()


def test_the_websocket_twin_sends_the_same_events_and_needs_a_key(tmp_path: Path) -> None:
    settings = load_settings(overrides={"home": str(tmp_path / "home")})
    app = health_app(settings, metrics=CollectorRegistry())
    control = enable_control(app, settings, host="127.0.0.1")
    admin = admin_key_path(settings.home).read_text().strip()
    published = control.services.events.publish("jobs", {"state": "done"}, "job-1")
    try:
        with TestClient(app) as client:
            with client.websocket_connect(
                "/api/v1/events/ws?topics=jobs&last_event_id=0", headers={"X-API-Key": admin}
            ) as socket:
                got = socket.receive_json()
            assert got["id"] == published.id
            assert (got["topic"], got["subject"], got["data"]) == (
                "jobs",
                "job-1",
                {"state": "done"},
            )
            with pytest.raises(WebSocketDisconnect), client.websocket_connect("/api/v1/events/ws"):
                pass
    finally:
        control.close()


def test_the_equity_curve_and_the_stores_gaps_are_read_over_the_api(hub: Hub) -> None:
    reader = {"X-API-Key": hub.key("reader", KeyScope.READ)}
    with httpx.Client(base_url=hub.server.url, headers=reader) as client:
        curve = client.get("/api/v1/equity", params={"span": "all"})
        assert curve.status_code == 200, curve.text
        points = curve.json()["points"]
        assert points  # the snapshot the node saved at its start, then now
        assert points[0]["equity"] == "100000"
        assert client.get("/api/v1/equity", params={"span": "year"}).status_code == 422
        gaps = client.get("/api/v1/data/gaps")
        assert gaps.status_code == 200
        assert gaps.json() == []  # this home stores no bars
        compared = client.get("/api/v1/runs/compare", params={"runs": ["a1b2c3"]})
        assert compared.status_code == 400
        assert "select 2 to 8" in compared.json()["message"]


def test_positions_in_front_of_the_router_answer_what_the_route_answers(hub: Hub) -> None:
    trader = hub.key("hot-trader", KeyScope.TRADE)
    hub.bar()
    with httpx.Client(base_url=hub.server.url, headers={"X-API-Key": trader}) as client:
        placed = client.post("/api/v1/orders", json={"symbol": "AAPL", "side": "buy", "qty": "4"})
        cid = placed.json()["client_order_id"]
        until(lambda: client.get(f"/api/v1/orders/{cid}").json()["status"] == "new", what="ack")
        hub.trade(101.25)
        until(lambda: client.get("/api/v1/positions").json()["positions"], what="the fill")
        hot = client.get("/api/v1/positions")  # no query: answered in front of the router
        routed = client.get("/api/v1/positions", params={"node": "main"})  # the route
        bearer = client.get("/api/v1/positions", headers={"Authorization": f"Bearer {trader}"})
    assert hot.status_code == routed.status_code == bearer.status_code == 200
    assert hot.content == routed.content == bearer.content
    assert hot.headers["content-type"] == routed.headers["content-type"] == "application/json"
    position = hot.json()["positions"][0]
    assert (position["symbol"], position["qty"], position["current_price"]) == (
        "AAPL",
        "4",
        "101.25",
    )


def test_positions_in_front_of_the_router_keep_the_rate_limit_and_its_error(hub: Hub) -> None:
    reader = hub.key("hot-reader", KeyScope.READ)
    settings = hub.settings.api
    statuses: list[int] = []
    bodies: list[dict[str, str]] = []
    with httpx.Client(base_url=hub.server.url, headers={"X-API-Key": reader}) as client:
        started = time.monotonic()
        for _ in range(400):
            answer = client.get("/api/v1/positions")
            statuses.append(answer.status_code)
            if answer.status_code != 200:
                bodies.append(answer.json())
        elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    assert statuses.count(200) <= settings.rate_burst + settings.rate_limit * elapsed + 1
    assert {b["code"] for b in bodies} == {"rate_limited"}
