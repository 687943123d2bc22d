"""A small in-memory ``Broker`` the tests script by hand: it records every call, can fail a
submit before or after the order "arrives", and sends trade updates only when told."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from stockyard.core import (
    Account,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    Position,
)
from stockyard.execution import (
    BrokerCapabilities,
    BrokerListener,
    DuplicateClientOrderIdError,
    ExchangeError,
    ReplaceRequest,
    TradeEvent,
    TradeUpdate,
)
from stockyard.execution.oms import InMemoryOrderJournal, OrderManager
from stockyard.resilience import NetworkError

T0 = datetime(2024, 7, 2, 14, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class MemoryBroker:
    """Orders by client order id; ``fail_submit`` makes the next submit raise a network error
    ``"before"`` the order arrives or ``"after"`` it did (a timeout on the answer)."""

    clock: Clock
    book: dict[str, Order] = field(default_factory=dict)
    executions: list[Fill] = field(default_factory=list)
    held: list[Position] = field(default_factory=list)
    listeners: list[BrokerListener] = field(default_factory=list)
    submits: list[OrderRequest] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    fail_submit: Literal["before", "after"] | None = None
    refuse_with: ExchangeError | None = None
    on_submit: Callable[[OrderRequest], None] | None = None
    connected: bool = False

    @property
    def capabilities(self) -> BrokerCapabilities:
        return BrokerCapabilities(name="memory", synchronous=True)

    async def connect(self) -> None:
        self.connected = True

    async def close(self) -> None:
        self.connected = False

    def subscribe(self, listener: BrokerListener) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    # -- the venue ---------------------------------------------------------------------

    def put(self, request: OrderRequest, *, status: OrderStatus = OrderStatus.NEW) -> Order:
        """Make an order arrive (as if sent by someone, or by us before a crash)."""
        coid = request.client_order_id or f"ext-{len(self.book)}"
        order = Order(
            id=f"B{len(self.book) + 1}",
            client_order_id=coid,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            status=status,
            created_at=self.clock(),
            updated_at=self.clock(),
            qty=request.qty,
            limit_price=request.limit_price,
        )
        self.book[coid] = order
        return order

    def fill(self, coid: str, qty: str, price: str, *, emit: bool = True, fee: str = "0") -> Fill:
        """Execute ``qty`` of an order at ``price``; send the update unless ``emit`` is off."""
        order = self.book[coid]
        filled = order.filled_qty + Decimal(qty)
        done = order.qty is not None and filled >= order.qty
        order = dataclasses.replace(
            order,
            filled_qty=filled,
            filled_avg_price=Decimal(price),
            status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
            updated_at=self.clock(),
        )
        self.book[coid] = order
        fill = Fill(
            id=f"X{len(self.executions) + 1}",
            order_id=order.id,
            client_order_id=coid,
            symbol=order.symbol,
            side=order.side,
            qty=Decimal(qty),
            price=Decimal(price),
            timestamp=self.clock(),
            fee=Decimal(fee),
            cumulative_qty=filled,
        )
        self.executions.append(fill)
        if emit:
            self.emit(
                TradeEvent.FILL if done else TradeEvent.PARTIAL_FILL,
                order,
                price=fill.price,
                qty=fill.qty,
                execution_id=fill.id,
                fee=fill.fee,
            )
        return fill

    def emit(self, event: TradeEvent, order: Order, **fields: object) -> None:
        update = TradeUpdate(
            event=event, order=order, timestamp=self.clock(), account_id="acct", **fields
        )  # type: ignore[arg-type]
        for listener in list(self.listeners):
            listener.on_trade_update(update)

    def reconnect(self) -> None:
        for listener in list(self.listeners):
            listener.on_reconnect()

    # -- Broker ------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> Order:
        self.submits.append(request)
        if self.on_submit is not None:
            self.on_submit(request)
        if self.refuse_with is not None:
            raise self.refuse_with
        failure, self.fail_submit = self.fail_submit, None
        if failure == "before":
            raise NetworkError("connection reset before the request was sent")
        assert request.client_order_id is not None
        if request.client_order_id in self.book:
            raise DuplicateClientOrderIdError(request.client_order_id)
        order = self.put(request)
        if failure == "after":
            raise NetworkError("read timed out")
        return order

    async def cancel(self, order_id: str) -> None:
        self.cancels.append(order_id)
        for coid, order in self.book.items():
            if order.id == order_id:
                if not order.status.is_open:
                    raise ExchangeError(422, f'order is already in "{order.status.value}" state')
                canceled = dataclasses.replace(order, status=OrderStatus.CANCELED)
                self.book[coid] = canceled
                self.emit(TradeEvent.CANCELED, canceled)
                return
        raise ExchangeError(404, "order not found")

    async def replace(self, order_id: str, change: ReplaceRequest) -> Order:
        raise ExchangeError(422, "not supported here")

    async def get_order(self, order_id: str) -> Order | None:
        return next((o for o in self.book.values() if o.id == order_id), None)

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return self.book.get(client_order_id)

    async def open_orders(self) -> list[Order]:
        return [o for o in self.book.values() if o.status.is_open]

    async def orders(self, *, since: datetime | None = None) -> list[Order]:
        return [o for o in self.book.values() if since is None or o.created_at > since]

    async def positions(self) -> list[Position]:
        return list(self.held)

    async def account(self) -> Account:
        return Account(id="acct", cash=Decimal(0), equity=Decimal(0), buying_power=Decimal(0))

    async def fills(self, *, since: datetime | None = None) -> list[Fill]:
        return [f for f in self.executions if since is None or f.timestamp > since]


def make_manager(
    broker: MemoryBroker | None = None, journal: InMemoryOrderJournal | None = None, **kw: object
) -> tuple[OrderManager, MemoryBroker, InMemoryOrderJournal]:
    """A started manager on a memory broker and journal (shared when given)."""
    clock = broker.clock if broker is not None else Clock()
    broker = broker or MemoryBroker(clock)
    journal = journal or InMemoryOrderJournal()
    manager = OrderManager(broker=broker, journal=journal, clock=clock, **kw)  # type: ignore[arg-type]
    manager.start_sync()
    return manager, broker, journal
