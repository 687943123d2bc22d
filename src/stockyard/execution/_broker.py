"""The ``Broker`` interface every venue adapter implements, and what it declares about itself.

Code above this interface (the order manager, the node, the backtester) never imports a vendor
SDK and never asks which venue it talks to: differences are declared in
:class:`BrokerCapabilities`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from stockyard.core import Account, Fill, Order, OrderRequest, Position, TimeInForce
from stockyard.execution.sim import ExchangeError, TradeUpdate

__all__ = [
    "Broker",
    "BrokerCapabilities",
    "BrokerListener",
    "DuplicateClientOrderIdError",
    "ReplaceRequest",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerCapabilities:
    """What a venue supports. Shared code branches on these, never on a venue's name.

    ``synchronous``: every coroutine of the broker completes without suspending (an
    in-process venue), so callers may drive them without an event loop
    (``OrderManager.submit_sync``). ``fills_have_fees``: fills carry the venue's fee;
    otherwise fees are charged apart (Alpaca's regulatory fees are separate activities).
    """

    name: str
    fractional: bool = True
    notional: bool = True
    shorting: bool = True
    extended_hours: bool = True
    crypto: bool = True
    brackets: bool = True
    trailing_stops: bool = True
    replace: bool = True
    max_client_order_id: int = 128
    synchronous: bool = False
    fills_have_fees: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest:
    """What may change when an open order is replaced (Alpaca's ``PATCH /v2/orders/{id}``).

    ``client_order_id`` names the replacement order; the order manager always sets it, so a
    replace that timed out can be looked up like a submit.
    """

    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Decimal | None = None
    time_in_force: TimeInForce | None = None
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("qty", "limit_price", "stop_price", "trail"):
            value = getattr(self, name)
            if value is not None and not (value.is_finite() and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        if self.client_order_id is not None and not 0 < len(self.client_order_id) <= 128:
            raise ValueError("client_order_id must be 1 to 128 characters")


class DuplicateClientOrderIdError(ExchangeError):
    """422: the venue already has an order with this ``client_order_id`` (so it arrived)."""

    def __init__(self, client_order_id: str) -> None:
        super().__init__(422, "client_order_id must be unique")
        self.client_order_id = client_order_id


class BrokerListener(Protocol):
    """Receives a broker's stream. Both are called on the broker's event-loop thread (in the
    caller's thread for a synchronous broker) and must not block."""

    def on_trade_update(self, update: TradeUpdate) -> None:
        """One trade update (``new``, ``partial_fill``, ``fill``, ``canceled``, ...)."""
        ...

    def on_reconnect(self) -> None:
        """The stream was lost and is back: updates in between may be missing, so reconcile."""
        ...


@runtime_checkable
class Broker(Protocol):
    """A venue: orders, positions, the account, fills, and a stream of trade updates.

    Refusals raise ``ExchangeError`` with the venue's HTTP status (403, 404, 422; a duplicate
    ``client_order_id`` raises ``DuplicateClientOrderIdError``). Transient failures raise a
    retryable ``StockyardError`` (``NetworkError``, ``ApiError``, ``RateLimitedError``,
    ``CircuitOpenError``); after one of those from ``submit`` or ``replace`` the order may or
    may not have arrived — look it up by ``client_order_id``. A fill has the same ``id``
    whether it comes on the stream (``TradeUpdate.execution_id``) or from ``fills()``.
    """

    @property
    def capabilities(self) -> BrokerCapabilities: ...

    async def connect(self) -> None:
        """Open the connection and the trade-update stream; idempotent."""
        ...

    async def close(self) -> None:
        """Close the stream and release the connection; idempotent."""
        ...

    def subscribe(self, listener: BrokerListener) -> Callable[[], None]:
        """Send every trade update and reconnect to ``listener``; returns an unsubscribe."""
        ...

    async def submit(self, request: OrderRequest) -> Order:
        """Send ``request`` (which carries our ``client_order_id``); the order as accepted."""
        ...

    async def cancel(self, order_id: str) -> None:
        """Ask to cancel an open order; the outcome arrives as a trade update."""
        ...

    async def replace(self, order_id: str, change: ReplaceRequest) -> Order:
        """Replace an open order; returns the new order (the old one ends ``replaced``)."""
        ...

    async def get_order(self, order_id: str) -> Order | None:
        """One order by the venue's id; ``None`` when the venue does not know it."""
        ...

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        """One order by our ``client_order_id``; ``None`` when it never arrived."""
        ...

    async def open_orders(self) -> list[Order]:
        """Every open order."""
        ...

    async def orders(self, *, since: datetime | None = None) -> list[Order]:
        """Orders (open and closed) submitted after ``since``, oldest first."""
        ...

    async def positions(self) -> list[Position]:
        """Open positions."""
        ...

    async def account(self) -> Account:
        """Balances now."""
        ...

    async def fills(self, *, since: datetime | None = None) -> list[Fill]:
        """Executions strictly after ``since``, oldest first."""
        ...
