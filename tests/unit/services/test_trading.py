"""The Trading service over a node, in this process and over its Unix socket: books,
orders through risk, the kill
switch, bots paused and changed, and the audit entry of every verb."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.config import RiskSettings
from stockyard.core import Bar, OrderSide, OrderType, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import NodeConfig, TradingNode, VenueClock
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.services import (
    AccessService,
    Caller,
    EventHub,
    LocalNodeClient,
    NodeSocketServer,
    OrderTicket,
    ServiceError,
    SocketNodeClient,
    TradingService,
    start_node_socket,
)
from stockyard.store import Database, KeyScope, open_database
from stockyard.strategy import BarRow, Strategy, param

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


class BuyOnce(Strategy):
    """Buys ``qty`` on its first bar (market)."""

    name = "svc_buy_once"
    qty: int = param(10, ge=1, changeable=True)
    window: int = param(5, ge=1)

    def on_bar(self, bar: BarRow) -> None:
        count = self.state.get("bars", 0)
        assert isinstance(count, int)
        self.state["bars"] = count + 1
        if count == 0:
            self.buy(bar.symbol, self.qty)


class Venue:
    """One SimExchange account with AAPL and MSFT, its clock and a state database."""

    def __init__(self, tmp: Path) -> None:
        self.clock = VenueClock(START)
        self.exchange = SimExchange(clock=self.clock.now, calendar=MarketCalendar.always_open())
        for symbol in ("AAPL", "MSFT"):
            self.exchange.add_asset(Asset.stock(symbol))
        self.exchange.open_account("acct", cash=Decimal(100_000))
        self.database: Database = open_database(f"sqlite:///{tmp / 'state.db'}")
        self.minute = 0
        self.root = tmp

    def node(self, *strategies: Strategy) -> TradingNode:
        return TradingNode(
            strategies=strategies,
            broker=SimBroker(self.exchange, account_id="acct"),
            database=self.database,
            bus=InProcessBus(registry=CollectorRegistry()),
            clock=self.clock,
            risk=RiskSettings(max_order_qty=Decimal(1000)),
            config=NodeConfig(tick_s=0.05),
        )

    def bar(self, node: TradingNode, symbol: str = "AAPL", close: float = 100.0) -> None:
        at = START + timedelta(minutes=self.minute)
        self.minute += 1
        bar = Bar(symbol, at, close, close + 0.5, close - 0.5, close, 1_000.0)
        self.exchange.on_bar(bar)
        node.bus.publish(f"md.bar.{symbol}", bar)

    def trade(self, node: TradingNode, symbol: str = "AAPL", price: float = 100.0) -> None:
        at = START + timedelta(minutes=self.minute, seconds=1)
        trade = Trade(symbol, at, price, 1_000.0)
        self.clock.observe(at)
        self.exchange.on_trade(trade)
        node.bus.publish(f"md.trade.{symbol}", trade)


async def until(check: Callable[[], object], *, what: str, within: float = 5.0) -> None:
    """Poll ``check`` on the loop until it holds, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


async def settled(node: TradingNode) -> None:
    """Wait until the sends and cancels the node scheduled have run."""
    await until(lambda: node.router is not None and not node.router.in_flight, what="sends")


def trade_caller(access: AccessService, name: str = "trader") -> Caller:
    """A caller holding a fresh ``trade`` key."""
    made = access.create_key(name, KeyScope.TRADE, caller=Caller.local())
    key = access.verify(made.secret)
    assert key is not None
    return Caller.of_key(key)


class Connected:
    """The Trading service over ``node``, reached in-process or over its Unix socket."""

    def __init__(self, venue: Venue, node: TradingNode, transport: str) -> None:
        self.access = AccessService(venue.database)
        self.service = TradingService({}, auditor=self.access.auditor)
        self.node = node
        self.transport = transport
        self.socket: NodeSocketServer | None = None
        self.path = venue.root / "run" / "node-main.sock"

    async def start(self) -> TradingService:
        await self.node.start()
        if self.transport == "local":
            self.service.add_node(LocalNodeClient(self.node))
        else:
            self.socket = await start_node_socket(
                self.node, name="main", home=self.path.parent.parent, path=self.path
            )
            self.service.add_node(SocketNodeClient(self.path))
        return self.service

    async def stop(self) -> None:
        await self.service.close()
        if self.socket is not None:
            await self.socket.stop()
        await self.node.stop()


@pytest.fixture
def venue(tmp_path: Path) -> Venue:
    return Venue(tmp_path)


@pytest.fixture(params=["local", "socket"])
def transport(request: pytest.FixtureRequest) -> str:
    """Each test runs with the node in this process and over its Unix socket."""
    return str(request.param)


def test_a_manual_order_fills_and_shows_in_positions_orders_fills_and_pnl(
    venue: Venue, transport: str
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"], qty=10))
    link = Connected(venue, node, transport)
    access = link.access
    caller = trade_caller(access)

    async def scenario() -> None:
        service = await link.start()
        venue.bar(node)
        await settled(node)
        venue.trade(node)
        await until(lambda: node.fills == 1, what="the bot's fill")
        outcome = await service.submit(
            OrderTicket(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(5)), caller=caller
        )
        assert outcome.accepted
        assert outcome.client_order_id is not None
        await settled(node)
        venue.trade(node)
        await until(lambda: node.fills == 2, what="the manual fill")
        positions = await service.positions()
        assert [(p.symbol, p.qty) for p in positions.positions] == [("AAPL", Decimal(15))]
        fills = await service.fills()
        assert {f.client_order_id for f in fills.fills} == {
            "svc_buy_once-0",
            outcome.client_order_id,
        }
        past = await service.orders(open_only=False)
        assert len(past.orders) == 2
        pnl = await service.pnl()
        assert [line.name for line in pnl.by_bot] == ["svc_buy_once", "manual"]
        account = await service.account()
        assert account.kill.halted is False
        await link.stop()

    asyncio.run(scenario())
    entries = access.audit()
    assert [(e.action, e.key_name, e.ok) for e in entries if e.action.startswith("orders")] == [
        ("orders.submit", "trader", True)
    ]


def test_the_same_client_order_id_after_a_restart_of_the_node_places_nothing_more(
    venue: Venue,
) -> None:
    ticket = OrderTicket(
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(95),
        client_order_id="retried-after-restart",
    )
    other = ticket.model_copy(update={"client_order_id": "a-new-key"})

    async def session(*tickets: OrderTicket, who: str) -> list[object]:
        node = venue.node(BuyOnce(symbols=["AAPL"]))
        link = Connected(venue, node, "local")
        service = await link.start()
        venue.bar(node)  # a price for risk
        await settled(node)
        caller = trade_caller(link.access, who)
        answers: list[object] = [await service.submit(t, caller=caller) for t in tickets]
        await settled(node)
        assert node.journal is not None
        answers.append(len([i for i, _ in node.journal.intents() if i.strategy_id == "manual"]))
        await link.stop()
        return answers

    first, placed = asyncio.run(session(ticket, who="before"))
    # a new node on the same state database: the key is known, a new one still places
    again, new, placed_after = asyncio.run(session(ticket, other, who="after"))
    assert again == first
    assert new != first
    assert (placed, placed_after) == (1, 2)


def test_the_same_client_order_id_twice_places_one_order(venue: Venue, transport: str) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, transport)
    access = link.access
    caller = trade_caller(access)
    ticket = OrderTicket(
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(95),
        client_order_id="my-key-1",
    )

    async def scenario() -> None:
        service = await link.start()
        venue.bar(node)  # a price for risk
        await settled(node)
        first = await service.submit(ticket, caller=caller)
        again = await service.submit(ticket, caller=caller)
        assert first == again
        await settled(node)
        assert node.journal is not None
        manual = [i for i, _ in node.journal.intents() if i.strategy_id == "manual"]
        assert len(manual) == 1
        canceled = await service.cancel(manual[0].client_order_id, caller=caller)
        assert canceled.accepted
        await link.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("ticket", "code"),
    [
        (OrderTicket(symbol="ZZZZ", side=OrderSide.BUY, qty=Decimal(1)), "unknown_symbol"),
        (OrderTicket(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(10**6)), "max_order_qty"),
    ],
)
def test_an_order_risk_refuses_is_a_422_and_nothing_reaches_the_venue(
    venue: Venue, ticket: OrderTicket, code: str
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, transport)
    access = link.access
    caller = trade_caller(access)

    async def scenario() -> None:
        service = await link.start()
        venue.bar(node)
        await settled(node)
        before = len(venue.exchange.list_orders("acct", status="all"))
        with pytest.raises(ServiceError) as refused:
            await service.submit(ticket, caller=caller)
        assert refused.value.status == 422
        assert refused.value.code.startswith(code[:7])
        await settled(node)
        assert len(venue.exchange.list_orders("acct", status="all")) == before
        await link.stop()

    asyncio.run(scenario())
    failed = [e for e in access.audit() if e.action == "orders.submit"]
    assert [e.ok for e in failed] == [False]


def test_a_paused_bot_opens_nothing_and_a_resumed_one_trades_again(
    venue: Venue, transport: str
) -> None:
    bot = BuyOnce(symbols=["AAPL"])
    node = venue.node(bot)
    link = Connected(venue, node, transport)
    access = link.access
    caller = trade_caller(access)

    async def scenario() -> None:
        service = await link.start()
        paused = await service.pause("svc_buy_once", caller=caller)
        assert paused.paused
        venue.bar(node)
        await settled(node)
        assert node.kernel is not None
        assert [r.code for _, r in node.kernel.refusals] == ["bot_paused"]
        resumed = await service.resume("svc_buy_once", caller=caller)
        assert not resumed.paused
        assert bot.buy("AAPL", 1).accepted
        with pytest.raises(ServiceError) as unknown:
            await service.pause("nobody", caller=caller)
        assert unknown.value.status == 404
        await link.stop()

    asyncio.run(scenario())


def test_only_changeable_parameters_change_and_a_bad_value_changes_nothing(
    venue: Venue, transport: str
) -> None:
    bot = BuyOnce(symbols=["AAPL"])
    node = venue.node(bot)
    link = Connected(venue, node, transport)
    access = link.access
    caller = trade_caller(access)

    async def scenario() -> None:
        service = await link.start()
        changed = await service.set_params("svc_buy_once", {"qty": 3}, caller=caller)
        assert changed.params["qty"] == 3
        assert changed.changeable == ["qty"]
        with pytest.raises(ServiceError) as fixed:
            await service.set_params("svc_buy_once", {"window": 9}, caller=caller)
        assert fixed.value.code == "param_not_changeable"
        with pytest.raises(ServiceError) as bad:
            await service.set_params("svc_buy_once", {"qty": 0}, caller=caller)
        assert bad.value.code == "bad_param"
        await link.stop()

    asyncio.run(scenario())
    assert bot.qty == 3
    assert bot.window == 5


def test_halt_with_flatten_leaves_the_account_flat_and_reset_needs_admin(
    venue: Venue, transport: str
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, transport)
    access = link.access
    caller = trade_caller(access)

    async def scenario() -> None:
        service = await link.start()
        venue.bar(node)
        await settled(node)
        venue.trade(node)
        await until(lambda: node.fills == 1, what="the fill")
        state = await service.halt("test", flatten=True, caller=caller)
        assert state.halted
        await settled(node)
        venue.trade(node)
        await until(lambda: node.fills == 2, what="the flattening fill")
        assert (await service.positions()).positions == []
        with pytest.raises(ServiceError) as refused:
            await service.submit(
                OrderTicket(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(1)), caller=caller
            )
        assert refused.value.code == "kill_switch"
        with pytest.raises(ServiceError) as forbidden:
            await service.reset(caller=caller)
        assert forbidden.value.status == 403
        released = await service.reset(caller=caller.__class__.local())
        assert not released.halted
        await link.stop()

    asyncio.run(scenario())
    assert venue.exchange.positions("acct") == []
    actions = [(e.action, e.ok) for e in reversed(access.audit())]
    assert ("kill.flatten", True) in actions
    assert ("kill.reset", False) in actions
    assert ("kill.reset", True) in actions


def test_a_nodes_events_reach_the_hub_over_its_socket(
    venue: Venue,
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, "socket")
    hub = EventHub()

    async def scenario() -> None:
        await link.start()
        assert link.socket is not None
        client = SocketNodeClient(link.path, name="main")
        relay = asyncio.ensure_future(client.relay(hub))
        venue.bar(node)
        await settled(node)
        venue.trade(node)
        await until(lambda: any(e.topic == "fills" for e in hub.since(0)), what="the fill")
        topics = {e.topic for e in hub.since(0)}
        assert {"bars", "orders", "fills"} <= topics
        fill = next(e for e in hub.since(0) if e.topic == "fills")
        assert fill.subject == "AAPL"
        assert fill.data["client_order_id"] == "svc_buy_once-0"
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await client.close()
        await link.stop()

    asyncio.run(scenario())


def test_a_relay_ahead_of_a_restarted_node_gets_the_new_runs_events_from_its_first(
    venue: Venue,
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, "socket")

    async def scenario() -> None:
        await link.start()
        client = SocketNodeClient(link.path, name="main")
        venue.bar(node)
        await settled(node)
        # A hub that saw event 10 000 of the node's earlier run (this run has a few).
        stream = client.events(last_event_id=10_000)
        first = await asyncio.wait_for(anext(stream), 10)
        assert first.id == 1
        assert first.topic == "bars"
        await stream.aclose()
        await client.close()
        await link.stop()

    asyncio.run(scenario())


def test_an_order_id_of_any_characters_is_not_found_and_breaks_nothing(
    venue: Venue, transport: str
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, transport)

    async def scenario() -> None:
        service = await link.start()
        for odd in ("no-such-order", "a b%2Fc\x15\u00e9", "a/b", ".."):
            with pytest.raises(ServiceError) as refused:
                await service.order(odd)
            assert refused.value.status == 404, (odd, refused.value)
        assert (await service.orders()).orders == []
        await link.stop()

    asyncio.run(scenario())


def test_the_equity_curve_spans_the_nodes_runs_and_ends_with_its_books_now(
    venue: Venue, transport: str
) -> None:
    async def scenario() -> None:
        first = venue.node(BuyOnce(symbols=["AAPL"], qty=10))
        await first.start()
        venue.bar(first)
        await settled(first)
        venue.trade(first)
        await until(lambda: first.fills == 1, what="the bot's fill")
        first.persist()
        await first.stop()
        second = venue.node(BuyOnce(symbols=["AAPL"], qty=10))
        link = Connected(venue, second, transport)
        service = await link.start()
        curve = await service.equity()
        runs = [p.run_id for p in curve.points]
        assert runs[0] == first.run_id  # the earlier run of the same bots comes first
        assert runs[-1] == second.run_id
        times = [p.time for p in curve.points]
        assert times == sorted(times)
        account = await service.account()
        assert curve.points[-1].equity == account.equity  # the books marked now
        assert len(curve.points) >= 4  # first: start, persist, stop; second: start (and now)
        whole = await service.equity_curve("all", points=2)
        assert [p.time for p in whole.points] == [times[0], times[-1]]
        with pytest.raises(ServiceError) as refused:
            await service.equity_curve("year")
        assert refused.value.status == 400
        await link.stop()

    asyncio.run(scenario())


def test_a_nodes_status_counts_its_market_data_and_says_how_long_since_the_last(
    venue: Venue, transport: str
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"], qty=10))
    link = Connected(venue, node, transport)

    async def scenario() -> None:
        service = await link.start()
        [before] = await service.statuses()
        assert (before.bars, before.feed_lag_s) == (0, None)  # nothing came yet
        venue.bar(node)
        await until(lambda: node.bars == 1, what="the bar")
        await settled(node)
        [after] = await service.statuses()
        assert after.bars == 1
        assert after.orders_sent == 1  # the bot bought on its first bar
        assert after.feed_lag_s is not None
        assert 0 <= after.feed_lag_s < 5
        # the bar made an order: its latency is measured (before it, none)
        assert (before.bar_to_order_samples, before.bar_to_order_p50_ms) == (0, None)
        assert after.bar_to_order_samples == 1
        assert after.bar_to_order_p50_ms is not None
        assert 0 < after.bar_to_order_p50_ms == after.bar_to_order_p99_ms < 5_000


def test_a_stopping_node_ends_the_event_stream_a_hub_holds_open_cleanly(
    venue: Venue,
) -> None:
    node = venue.node(BuyOnce(symbols=["AAPL"]))
    link = Connected(venue, node, "socket")

    async def scenario() -> None:
        await link.start()
        assert link.socket is not None
        client = SocketNodeClient(link.path, name="main")
        venue.bar(node)
        await settled(node)
        stream = client.events(last_event_id=0)
        first = await asyncio.wait_for(anext(stream), 10)
        assert first.topic == "bars"  # the stream is live

        async def rest() -> None:
            async for _event in stream:
                pass

        reading = asyncio.ensure_future(rest())
        await link.socket.stop()
        # The stream ends as a stream ends: not cut off by the server's shutdown timeout,
        # which the client would see as a broken connection (a ServiceError here).
        await asyncio.wait_for(reading, 10)
        link.socket = None
        await client.close()
        await link.stop()

    asyncio.run(scenario())
