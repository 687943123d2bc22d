"""Safe by default: the MCP gate in front of every order, and outside text marked as data.

An order placed over MCP must be under the per-order notional cap (every mode), and on a
live node it also needs live allowed for MCP (``stockyard mcp --allow-live`` on stdio,
``mcp.allow_live`` for the hub's ``/mcp``); the key's ``trade`` scope and the node's risk
checks are the service's, as for the REST API. A refusal says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from stockyard.config import Settings
from stockyard.services import Event, OrderTicket, ServiceError

__all__ = [
    "DATA_CLOSE",
    "DATA_OPEN",
    "McpPolicy",
    "as_data",
    "check_order",
    "data_fields",
    "last_price",
    "order_notional",
]

DATA_OPEN = "<data>"
DATA_CLOSE = "</data>"
_PRICE_FIELDS = {"quotes": ("ask_price", "bid_price"), "trades": ("price",), "bars": ("close",)}


@dataclass(frozen=True, slots=True, kw_only=True)
class McpPolicy:
    """What MCP may do beyond the key's scope: live orders, and the per-order cap."""

    allow_live: bool = False
    max_order_notional: Decimal = Decimal(10_000)

    @classmethod
    def from_settings(cls, settings: Settings, *, allow_live: bool | None = None) -> McpPolicy:
        """The policy of ``settings.mcp``; ``allow_live`` (the stdio flag) replaces its own."""
        live = settings.mcp.allow_live if allow_live is None else allow_live
        return cls(allow_live=live, max_order_notional=settings.mcp.max_order_notional)


def as_data(text: str) -> str:
    """``text`` that came from outside (a broker's message, a symbol's name, news) marked as
    data for the assistant: between ``<data>`` and ``</data>``, with those marks inside
    it defused so the text cannot close the block early."""
    inner = text.replace(DATA_OPEN, "<data >").replace(DATA_CLOSE, "</data >")
    return f"{DATA_OPEN}{inner}{DATA_CLOSE}"


def data_fields(value: object) -> object:
    """``value`` with every string inside it marked with :func:`as_data` (keys kept)."""
    if isinstance(value, str):
        return as_data(value)
    if isinstance(value, Mapping):
        return {str(k): data_fields(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [data_fields(v) for v in value]
    return value


def last_price(events: list[Event]) -> tuple[Decimal, Event] | None:
    """The newest price among market ``events`` (a quote's ask or bid, a trade, a bar's
    close) and the event it came from."""
    for event in reversed(events):
        for name in _PRICE_FIELDS.get(event.topic, ()):
            raw = event.data.get(name)
            if raw is None:
                continue
            price = Decimal(str(raw))
            if price.is_finite() and price > 0:
                return price, event
    return None


def order_notional(ticket: OrderTicket, price: Decimal | None) -> Decimal | None:
    """What ``ticket`` is worth: its notional, or its quantity at its limit (else stop)
    price, else at ``price``; None when no price is known."""
    if ticket.notional is not None:
        return ticket.notional
    assert ticket.qty is not None  # OrderTicket holds exactly one of qty and notional
    at = ticket.limit_price or ticket.stop_price or price
    return None if at is None else ticket.qty * at


def check_order(
    policy: McpPolicy, ticket: OrderTicket, *, mode: str, price: Decimal | None
) -> None:
    """ServiceError (403 or 422, with the reason) unless MCP may place ``ticket`` on a node
    in ``mode`` (``sandbox``, ``paper``, ``live``) with ``price`` the symbol's last price."""
    if mode == "live" and not policy.allow_live:
        raise ServiceError(
            "live_not_allowed",
            "this node trades live and live orders are not allowed over MCP "
            "(stockyard mcp --allow-live on stdio; mcp.allow_live for the hub's /mcp)",
            status=403,
        )
    worth = order_notional(ticket, price)
    if worth is None:
        raise ServiceError(
            "no_price",
            f"no price is known for {ticket.symbol} to check the per-order cap of "
            f"{policy.max_order_notional} USD; give limit_price or notional",
            status=422,
        )
    if worth > policy.max_order_notional:
        raise ServiceError(
            "over_mcp_cap",
            f"the order is worth about {worth:.2f} USD, over the per-order cap of "
            f"{policy.max_order_notional} USD for MCP (mcp.max_order_notional)",
            status=422,
        )
