"""``/api/v1`` trading routes: each parses, calls one ``TradingService`` method, answers its
model. Reads need ``read``; the service checks the scope of each control verb (``trade``,
``admin`` for a reset) and audits it."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations, some
# of them aliases local to the function that builds the router.

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from stockyard.api._v1_auth import ERROR_RESPONSES, scoped
from stockyard.services import (
    AccountView,
    BotsView,
    BotView,
    Caller,
    CloseOutcome,
    EquityView,
    FillsView,
    HaltRequest,
    KillState,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    ParamsChange,
    PnlView,
    PositionsView,
    TradingService,
)
from stockyard.store import KeyScope

__all__ = ["trading_router"]

NodeQuery = Annotated[str | None, Query(max_length=64, description="the node (default: the first)")]
OrderId = Annotated[str, Path(min_length=1, max_length=128)]
BotId = Annotated[str, Path(min_length=1, max_length=128)]
SymbolPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9./]+$")]
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ERROR_RESPONSES[401]["model"], "description": "unknown order, bot or node"},
    409: {"model": ERROR_RESPONSES[401]["model"], "description": "conflicts with its state"},
    503: {"model": ERROR_RESPONSES[401]["model"], "description": "no trading node is running"},
}


def _read_routes(
    router: APIRouter, service: TradingService, caller: Callable[..., Awaitable[Caller]]
) -> None:
    """The read routes (``read`` scope)."""
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias

    @router.get("/account")
    async def account(_who: Reader, node: NodeQuery = None) -> AccountView:
        """Cash, equity, P&L, exposure and the kill switch."""
        return await service.account(node=node)

    @router.get("/positions")
    async def positions(_who: Reader, node: NodeQuery = None) -> PositionsView:
        """Positions, marked at the node's last prices."""
        return await service.positions(node=node)

    @router.get("/orders")
    async def orders(
        _who: Reader,
        node: NodeQuery = None,
        open_only: Annotated[bool, Query(alias="open")] = True,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> OrdersView:
        """Open orders, or (``open=false``) the newest orders of the journal."""
        return await service.orders(node=node, open_only=open_only, limit=limit)

    @router.get("/orders/{client_order_id}")
    async def order(_who: Reader, client_order_id: OrderId, node: NodeQuery = None) -> OrderView:
        """One order by client order id."""
        return await service.order(client_order_id, node=node)

    @router.get("/fills")
    async def fills(
        _who: Reader,
        node: NodeQuery = None,
        since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
    ) -> FillsView:
        """Fills, oldest first (the newest ``limit``)."""
        return await service.fills(node=node, since=since, limit=limit)

    @router.get("/pnl")
    async def pnl(_who: Reader, node: NodeQuery = None, since: datetime | None = None) -> PnlView:
        """P&L per bot and per symbol."""
        return await service.pnl(node=node, since=since)

    @router.get("/equity")
    async def equity(
        _who: Reader,
        node: NodeQuery = None,
        span: Annotated[str, Query(pattern="^(day|week|month|all)$")] = "day",
    ) -> EquityView:
        """The node's equity curve (its saved snapshots across its runs, then now) over
        the span: day (since midnight UTC of the node's clock), week, month or all."""
        return await service.equity_curve(span, node=node)

    @router.get("/bots")
    async def bots(_who: Reader, node: NodeQuery = None) -> BotsView:
        """Bots with state, parameters (and which may change) and positions."""
        return await service.bots(node=node)


def _control_routes(
    router: APIRouter, service: TradingService, caller: Callable[..., Awaitable[Caller]]
) -> None:
    """The control routes: the service checks each one's scope and audits it."""
    Who = Annotated[Caller, Depends(caller)]  # noqa: N806 - a type alias

    @router.post("/orders")
    async def submit(who: Who, ticket: OrderTicket, node: NodeQuery = None) -> OrderOutcome:
        """Place an order through risk (trade); idempotent by ``client_order_id``."""
        return await service.submit(ticket, caller=who, node=node)

    @router.delete("/orders/{client_order_id}")
    async def cancel(who: Who, client_order_id: OrderId, node: NodeQuery = None) -> OrderOutcome:
        """Cancel an open order (trade)."""
        return await service.cancel(client_order_id, caller=who, node=node)

    @router.patch("/orders/{client_order_id}")
    async def replace(
        who: Who, client_order_id: OrderId, change: OrderChange, node: NodeQuery = None
    ) -> OrderOutcome:
        """Replace an open order's quantity or prices (trade; risk checks it first)."""
        return await service.replace(client_order_id, change, caller=who, node=node)

    @router.post("/kill")
    async def kill(who: Who, body: HaltRequest, node: NodeQuery = None) -> KillState:
        """The kill switch (trade): halt, and with ``flatten`` close every position."""
        return await service.halt(body.reason, flatten=body.flatten, caller=who, node=node)

    @router.post("/kill/reset")
    async def reset(who: Who, node: NodeQuery = None) -> KillState:
        """Release the kill switch (admin)."""
        return await service.reset(caller=who, node=node)

    @router.delete("/positions/{symbol}")
    async def close_position(who: Who, symbol: SymbolPath, node: NodeQuery = None) -> CloseOutcome:
        """Close one position (trade)."""
        return await service.close_position(symbol.upper(), caller=who, node=node)

    @router.delete("/positions")
    async def close_all(who: Who, node: NodeQuery = None) -> CloseOutcome:
        """Close every position (trade)."""
        return await service.close_all(caller=who, node=node)

    @router.post("/bots/{bot_id}/pause")
    async def pause(who: Who, bot_id: BotId, node: NodeQuery = None) -> BotView:
        """Pause a bot: no new entries; what it holds is still managed (trade)."""
        return await service.pause(bot_id, caller=who, node=node)

    @router.post("/bots/{bot_id}/resume")
    async def resume(who: Who, bot_id: BotId, node: NodeQuery = None) -> BotView:
        """Resume a paused bot (trade)."""
        return await service.resume(bot_id, caller=who, node=node)

    @router.patch("/bots/{bot_id}/params")
    async def set_params(
        who: Who, bot_id: BotId, body: ParamsChange, node: NodeQuery = None
    ) -> BotView:
        """Change parameters the bot declares changeable (trade; all or nothing)."""
        return await service.set_params(bot_id, body.values, caller=who, node=node)


def trading_router(service: TradingService, caller: Callable[..., Awaitable[Caller]]) -> APIRouter:
    """The trading routes over ``service``; ``caller`` authenticates a request."""
    router = APIRouter(tags=["trading"], responses={**ERROR_RESPONSES, **_NOT_FOUND})
    _read_routes(router, service, caller)
    _control_routes(router, service, caller)
    return router
