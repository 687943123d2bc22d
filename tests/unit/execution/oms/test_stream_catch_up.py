"""A network broker's answer to a send can count a fill its stream has not brought yet. The
order manager waits a moment for the stream rather than fetching the broker's fills (a REST
call per order, against the broker's rate limit), and fetches them only when the stream
does not bring them in time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

import pytest
from memory_broker import Clock, MemoryBroker

from stockyard.core import Fill, Order, OrderRequest, OrderSide, OrderStatus
from stockyard.execution import BrokerCapabilities, TradeEvent
from stockyard.execution.oms import InMemoryOrderJournal, OmsConfig, OrderManager


class FastAnswerBroker(MemoryBroker):
    """Fills a market order as it arrives; its answer says so at once, while the stream's
    update comes on a later turn of the loop (or never, with ``stream_down``)."""

    stream_down = False
    fetches = 0

    @property
    def capabilities(self) -> BrokerCapabilities:
        return BrokerCapabilities(name="fast-answer", synchronous=False)

    async def submit(self, request: OrderRequest) -> Order:
        self.submits.append(request)
        self.put(request)
        assert request.client_order_id is not None
        fill = self.fill(request.client_order_id, "10", "100", emit=False)
        order = self.book[request.client_order_id]
        if not self.stream_down:
            asyncio.get_running_loop().call_soon(
                lambda: self.emit(
                    TradeEvent.FILL, order, price=fill.price, qty=fill.qty, execution_id=fill.id
                )
            )
        return order

    async def fills(self, *, since: datetime | None = None) -> list[Fill]:
        self.fetches += 1
        return await super().fills(since=since)


def _manager(broker: FastAnswerBroker, grace_s: float) -> OrderManager:
    return OrderManager(
        broker=broker,
        journal=InMemoryOrderJournal(),
        clock=broker.clock,
        config=OmsConfig(stream_grace_s=grace_s),
    )


def _buy() -> OrderRequest:
    return OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(10))


def test_the_stream_brings_the_fill_so_nothing_is_fetched() -> None:
    broker = FastAnswerBroker(Clock())
    manager = _manager(broker, grace_s=5.0)
    fills: list[Fill] = []
    manager.add_fill_listener(lambda _sid, fill: fills.append(fill))

    async def scenario() -> None:
        await manager.start()
        view = await manager.submit("bot", _buy())
        assert view.broker_order_id == "B1"
        assert view.status is OrderStatus.FILLED
        assert broker.fetches == 0

    asyncio.run(asyncio.wait_for(scenario(), 4.0))  # well inside the grace: no waiting
    assert [f.id for f in fills] == ["X1"]


def test_without_the_stream_the_fill_is_fetched_after_the_grace() -> None:
    broker = FastAnswerBroker(Clock())
    broker.stream_down = True
    manager = _manager(broker, grace_s=0.05)
    fills: list[Fill] = []
    manager.add_fill_listener(lambda _sid, fill: fills.append(fill))

    async def scenario() -> None:
        await manager.start()
        view = await manager.submit("bot", _buy())
        assert view.status is OrderStatus.FILLED
        assert view.filled_qty == Decimal(10)
        assert broker.fetches == 1

    asyncio.run(scenario())
    assert [f.id for f in fills] == ["X1"]  # recorded once, from the broker's fills


def test_a_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="stream_grace_s must be >= 0"):
        OmsConfig(stream_grace_s=-1)
