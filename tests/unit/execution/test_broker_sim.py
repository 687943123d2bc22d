"""SimBroker: the Broker interface on an in-process SimExchange, driven by the order manager
with no event loop."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sim_desk import make_desk

from stockyard.core import Fill, OrderRequest, OrderSide, OrderStatus
from stockyard.execution import (
    DuplicateClientOrderIdError,
    ExchangeConfig,
    OrderNotFoundError,
    PerTradeFee,
    SimBroker,
)
from stockyard.execution.oms import InMemoryOrderJournal, OrderManager


def buy(qty: str = "10") -> OrderRequest:
    return OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(qty))


def test_an_order_is_sent_filled_by_the_next_bar_and_its_fill_carries_the_fee() -> None:
    desk = make_desk(config=ExchangeConfig(stock_fees=PerTradeFee(amount=Decimal("1.25"))))
    desk.bar(100, 100, 100, 100, advance=False)
    broker = SimBroker(desk.exchange, account_id="acct")
    journal = InMemoryOrderJournal()
    manager = OrderManager(broker=broker, journal=journal, clock=desk.clock)
    fills: list[tuple[str, Fill]] = []
    manager.add_fill_listener(lambda s, f: fills.append((s, f)))
    manager.start_sync()
    view = manager.submit_sync("bot", buy())
    assert view.status is OrderStatus.NEW
    assert view.client_order_id == "bot-0"
    desk.bar(101, 102, 100, 101)
    done = manager.order("bot-0")
    assert done is not None
    assert done.status is OrderStatus.FILLED
    assert [(s, f.qty, f.price, f.fee) for s, f in fills] == [
        ("bot", Decimal(10), Decimal(101), Decimal("1.25"))
    ]
    assert [f.id for f in journal.fills()] == [f.id for f in desk.exchange.fills("acct")]
    report = manager.start_sync()  # reconciling finds nothing to correct
    assert report.corrections == 0
    assert report.position_differences == {}


def test_a_duplicate_client_order_id_is_its_own_error() -> None:
    desk = make_desk()
    broker = SimBroker(desk.exchange, account_id="acct")
    request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(1), client_order_id="x-1")
    asyncio.run(broker.submit(request))
    with pytest.raises(DuplicateClientOrderIdError, match="client_order_id must be unique"):
        asyncio.run(broker.submit(request))


def test_lookups_of_unknown_orders_answer_none() -> None:
    broker = SimBroker(make_desk().exchange, account_id="acct")
    assert asyncio.run(broker.get_order_by_client_id("nope")) is None
    assert asyncio.run(broker.get_order("nope")) is None
    with pytest.raises(OrderNotFoundError):
        asyncio.run(broker.cancel("nope"))


def test_an_unknown_account_fails_at_connect() -> None:
    broker = SimBroker(make_desk().exchange, account_id="ghost")
    with pytest.raises(Exception, match="account 'ghost' not found"):
        asyncio.run(broker.connect())


def test_updates_of_other_accounts_are_not_passed_on() -> None:
    desk = make_desk()
    desk.exchange.open_account("other", cash=Decimal(1000))
    broker = SimBroker(desk.exchange, account_id="acct")
    manager = OrderManager(broker=broker, journal=InMemoryOrderJournal(), clock=desk.clock)
    manager.start_sync()
    desk.exchange.submit("other", buy("1"))
    assert manager.open_orders() == []
