"""The kernel's order route: the intent is journaled before anything is sent; a broker's
rejection is an accepted submit and a REJECTED update under either driver; cancels of
orders that are not the strategy's, or no longer open, are refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from stockyard.core import Order, OrderRequest, OrderSide, OrderStatus, OrderType, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import OrderRoute, SyncDriver, order_of
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.execution.oms import InMemoryOrderJournal, OrderManager
from stockyard.strategy import StrategyOrder

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def _manager() -> tuple[OrderManager, InMemoryOrderJournal, SimExchange]:
    exchange = SimExchange(clock=lambda: T0, calendar=MarketCalendar.always_open())
    exchange.add_asset(Asset.stock("AAPL"))
    exchange.open_account("acct", cash=Decimal(10_000))
    exchange.on_trade(Trade("AAPL", T0, 100.0, 500.0))
    journal = InMemoryOrderJournal()
    manager = OrderManager(
        broker=SimBroker(exchange, account_id="acct"), journal=journal, clock=lambda: T0
    )
    return manager, journal, exchange


def _order(qty: int = 1) -> StrategyOrder:
    request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(qty))
    return StrategyOrder(strategy_id="bot", sequence=1, request=request, created_at=T0)


def test_submit_journals_the_intent_and_sends_it_only_on_the_loop() -> None:
    manager, journal, exchange = _manager()

    async def scenario() -> None:
        await manager.start()
        router = OrderRoute(manager)
        result = router.submit(_order())
        assert result.accepted
        assert result.client_order_id == "bot-0"
        assert [i.client_order_id for i, _ in journal.intents()] == ["bot-0"]
        assert exchange.list_orders("acct", status="all") == []  # not sent yet
        await router.drain(5)
        assert [o.client_order_id for o in exchange.list_orders("acct", status="all")] == ["bot-0"]

    asyncio.run(scenario())


def test_a_cancel_of_another_strategys_or_a_finished_order_is_refused() -> None:
    manager, _, exchange = _manager()

    async def scenario() -> None:
        await manager.start()
        router = OrderRoute(manager)
        router.submit(_order())
        await router.drain(5)
        assert router.cancel("other", "bot-0").code == "unknown_order"
        assert router.cancel("bot", "bot-9").code == "unknown_order"
        exchange.on_trade(Trade("AAPL", T0, 100.0, 500.0))  # fills the market order
        assert router.cancel("bot", "bot-0").code == "not_open"

    asyncio.run(scenario())


def test_an_order_the_manager_closed_itself_is_reported_from_its_intent() -> None:
    manager, _, _ = _manager()
    view = manager.prepare("bot", _order().request)
    manager.cancel_sync(view.client_order_id)  # canceled before it was sent
    closed = manager.order(view.client_order_id)
    assert closed is not None
    order = order_of(closed)
    assert order.status is OrderStatus.CANCELED
    assert order.client_order_id == "bot-0"
    assert order.qty == 1


def test_a_broker_rejection_is_an_accepted_submit_then_a_rejected_update_under_both_drivers() -> (
    None
):
    too_big = _order(qty=1_000)  # $100,000 on a $10,000 account: the exchange rejects it
    heard: dict[str, list[tuple[str, OrderStatus]]] = {"sync": [], "loop": []}

    manager, _, _ = _manager()
    manager.start_sync()
    sync = OrderRoute(
        manager,
        driver=SyncDriver(),
        on_order=lambda o: heard["sync"].append((o.client_order_id, o.status)),
    )
    assert sync.submit(too_big).client_order_id == "bot-0"

    async def live() -> None:
        manager, _, _ = _manager()
        await manager.start()
        loop = OrderRoute(
            manager, on_order=lambda o: heard["loop"].append((o.client_order_id, o.status))
        )
        assert loop.submit(too_big).client_order_id == "bot-0"
        await loop.drain(5)

    asyncio.run(live())
    assert heard["sync"] == heard["loop"] == [("bot-0", OrderStatus.REJECTED)]


def test_the_sync_driver_sends_at_once_and_cancels_at_once() -> None:
    manager, _, exchange = _manager()
    manager.start_sync()
    orders: list[Order] = []
    route = OrderRoute(manager, driver=SyncDriver(), on_order=orders.append)
    limit = OrderRequest(
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(90),
    )
    order = StrategyOrder(strategy_id="bot", sequence=1, request=limit, created_at=T0)
    assert route.submit(order).client_order_id == "bot-0"
    assert [o.client_order_id for o in exchange.list_orders("acct", status="open")] == ["bot-0"]
    assert route.cancel("bot", "bot-0").accepted
    assert [o.status for o in orders] == [OrderStatus.NEW, OrderStatus.CANCELED]
    assert route.in_flight == 0


def test_on_submit_hears_each_journaled_order_with_its_client_order_id() -> None:
    manager, _journal, _exchange = _manager()
    heard: list[tuple[str, str]] = []

    async def scenario() -> None:
        await manager.start()
        router = OrderRoute(manager, on_submit=lambda o, cid: heard.append((o.strategy_id, cid)))
        assert router.submit(_order()).accepted
        await router.drain(5)

    asyncio.run(scenario())
    assert heard == [("bot", "bot-0")]
