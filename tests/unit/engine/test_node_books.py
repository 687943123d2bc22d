"""The node's books on start: fills recovered from the broker, the opening portfolio."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stockyard.core import (
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    Trade,
)
from stockyard.data import MarketCalendar
from stockyard.engine._node_books import missing_fills, opening_portfolio
from stockyard.execution import Asset, SimBroker, SimExchange
from stockyard.execution.oms import InMemoryOrderJournal

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def test_a_fill_the_journal_lacks_for_a_filled_order_is_recovered_once() -> None:
    exchange = SimExchange(clock=lambda: START, calendar=MarketCalendar.always_open())
    exchange.add_asset(Asset.stock("AAPL"))
    exchange.open_account("acct", cash=Decimal(10_000))
    exchange.on_trade(Trade("AAPL", START, 100.0, 500.0))
    request = OrderRequest(
        symbol="AAPL", side=OrderSide.BUY, qty=Decimal(3), client_order_id="bot-0"
    )
    placed = exchange.submit("acct", request)
    exchange.on_trade(Trade("AAPL", START + timedelta(seconds=1), 100.0, 500.0))
    journal = InMemoryOrderJournal()
    journal.record_intent(
        OrderIntent(
            client_order_id="bot-0", strategy_id="bot", sequence=0, request=request,
            created_at=START,
        )
    )  # fmt: skip
    # The crash came after the filled state was written and before its fill was.
    journal.record_event(
        OrderEvent(
            client_order_id="bot-0", kind=OrderEventKind.RECONCILED, status=OrderStatus.FILLED,
            timestamp=START, broker_order_id=placed.id, filled_qty=Decimal(3),
        )
    )  # fmt: skip
    broker = SimBroker(exchange, account_id="acct")

    assert asyncio.run(missing_fills(journal, broker)) == 1
    assert [(f.client_order_id, f.qty) for f in journal.fills(strategy_id="bot")] == [
        ("bot-0", Decimal(3))
    ]
    assert asyncio.run(missing_fills(journal, broker)) == 0


def test_the_opening_portfolio_holds_every_fill_and_the_brokers_cash() -> None:
    fills = [
        Fill(id="1", order_id="o1", client_order_id="a-0", symbol="AAPL", side=OrderSide.BUY,
             qty=Decimal(10), price=Decimal(100), timestamp=START, fee=Decimal("0.5")),
        Fill(id="2", order_id="o2", client_order_id="a-1", symbol="AAPL", side=OrderSide.SELL,
             qty=Decimal(4), price=Decimal(110), timestamp=START),
    ]  # fmt: skip
    books = opening_portfolio(fills, broker_cash=Decimal("9440.00"))
    assert books.cash == Decimal("9440.00")
    assert books.qty("AAPL") == 6
    assert books.realized_pl() == Decimal(40)
