"""``SimBroker``: the ``Broker`` interface on an in-process ``SimExchange`` (backtests, tests).

Every coroutine here completes without suspending (``capabilities.synchronous``), so the order
manager can drive it without an event loop and a backtest pays no scheduling cost per order.
It reads time only through the exchange, so it runs on the exchange's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from stockyard.core import Account, Fill, Order, OrderRequest, Position
from stockyard.execution._broker import (
    BrokerCapabilities,
    BrokerListener,
    DuplicateClientOrderIdError,
    ReplaceRequest,
)
from stockyard.execution.sim import (
    ExchangeError,
    OrderNotFoundError,
    SimExchange,
    TradeUpdate,
)

__all__ = ["SIM_CAPABILITIES", "SimBroker"]

SIM_CAPABILITIES = BrokerCapabilities(name="sim", synchronous=True, fills_have_fees=True)

_DUPLICATE = "client_order_id must be unique"
_PAGE = 500  # the exchange's largest page, as Alpaca's


class SimBroker:
    """One account of a ``SimExchange`` as a ``Broker``. Not thread-safe (nor is the exchange)."""

    def __init__(
        self,
        exchange: SimExchange,
        *,
        account_id: str,
        capabilities: BrokerCapabilities = SIM_CAPABILITIES,
    ) -> None:
        self.exchange = exchange
        self.account_id = account_id
        self._capabilities = capabilities
        self._listeners: list[BrokerListener] = []
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def capabilities(self) -> BrokerCapabilities:
        return self._capabilities

    async def connect(self) -> None:
        if self._unsubscribe is None:
            self.exchange.account(self.account_id)  # an unknown account fails here (404)
            self._unsubscribe = self.exchange.subscribe(self._on_update)

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def subscribe(self, listener: BrokerListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _on_update(self, update: TradeUpdate) -> None:
        if update.account_id == self.account_id:
            for listener in tuple(self._listeners):
                listener.on_trade_update(update)

    async def submit(self, request: OrderRequest) -> Order:
        try:
            return self.exchange.submit(self.account_id, request)
        except ExchangeError as exc:
            if exc.code == 422 and exc.message == _DUPLICATE and request.client_order_id:
                raise DuplicateClientOrderIdError(request.client_order_id) from exc
            raise

    async def cancel(self, order_id: str) -> None:
        self.exchange.cancel(self.account_id, order_id)

    async def replace(self, order_id: str, change: ReplaceRequest) -> Order:
        try:
            return self.exchange.replace(
                self.account_id,
                order_id,
                qty=change.qty,
                limit_price=change.limit_price,
                stop_price=change.stop_price,
                trail=change.trail,
                time_in_force=change.time_in_force,
                client_order_id=change.client_order_id,
            )
        except ExchangeError as exc:
            if exc.code == 422 and exc.message == _DUPLICATE and change.client_order_id:
                raise DuplicateClientOrderIdError(change.client_order_id) from exc
            raise

    async def get_order(self, order_id: str) -> Order | None:
        try:
            return self.exchange.get_order(self.account_id, order_id)
        except OrderNotFoundError:
            return None

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            return self.exchange.get_order_by_client_id(self.account_id, client_order_id)
        except OrderNotFoundError:
            return None

    async def open_orders(self) -> list[Order]:
        return self.exchange.list_orders(
            self.account_id, status="open", limit=_PAGE, direction="asc"
        )

    async def orders(self, *, since: datetime | None = None) -> list[Order]:
        return self.exchange.list_orders(
            self.account_id, status="all", limit=_PAGE, after=since, direction="asc"
        )

    async def positions(self) -> list[Position]:
        return self.exchange.positions(self.account_id)

    async def account(self) -> Account:
        return self.exchange.account(self.account_id)

    async def fills(self, *, since: datetime | None = None) -> list[Fill]:
        return self.exchange.fills(self.account_id, after=since)
