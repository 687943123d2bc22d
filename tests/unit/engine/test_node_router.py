"""The node's order route: the intent is journaled before anything is sent; cancels of
orders that are not the strategy's, or no longer open, are refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from stockyard.core import OrderRequest, OrderSide, OrderStatus, Trade
from stockyard.data import MarketCalendar
from stockyard.engine import OmsRouter
from stockyard.engine._node_router import order_of
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
        router = OmsRouter(manager)
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
        router = OmsRouter(manager)
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
