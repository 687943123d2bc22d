"""The trading tools: mode, books, market data, orders (through the MCP gate, then risk),
bots. Each calls one service method through the caller's backend."""

# No ``from __future__ import annotations``: the SDK reads the tools' annotations to build
# their schemas.

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stockyard.mcp._backend import Backend
from stockyard.mcp._safety import as_data, check_order, last_price, order_notional
from stockyard.mcp._toolbox import DESTRUCTIVE, READ, STATE, Toolbox, invalid
from stockyard.services import (
    AccountView,
    BarsView,
    BotsView,
    BotView,
    CloseOutcome,
    Event,
    FillsView,
    KillState,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    PnlView,
    PositionsView,
    PositionView,
    ServiceError,
)

__all__ = ["QuoteView", "SnapshotView", "TradingMode", "register_trading"]

Node = Annotated[str | None, Field(description="the node (default: the first)", max_length=64)]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9./]{1,32}$", description="e.g. AAPL, BTC/USD")]
OrderId = Annotated[str, Field(min_length=1, max_length=64, description="client order id")]
BotId = Annotated[str, Field(min_length=1, max_length=128)]
Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]


class TradingMode(BaseModel):
    """Where orders placed here go, and what may stop them."""

    model_config = ConfigDict(frozen=True)

    node: str
    mode: str
    run_id: str | None
    equity: Decimal
    kill: KillState
    live_orders_allowed: bool
    max_order_notional: Decimal
    transport: str


class QuoteView(BaseModel):
    """The newest price of a symbol seen by the hub's live feed."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    price: Decimal
    source: str
    time: datetime
    bid: Decimal | None = None
    ask: Decimal | None = None


class SnapshotView(BaseModel):
    """A symbol at a glance: newest quote, trade and bar, the position, open orders."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    quote: dict[str, object] | None
    trade: dict[str, object] | None
    bar: dict[str, object] | None
    position: PositionView | None
    open_orders: list[OrderView]


def _marked_order(order: OrderView) -> OrderView:
    if order.detail is None:
        return order
    return order.model_copy(update={"detail": as_data(order.detail)})


def _marked_orders(view: OrdersView) -> OrdersView:
    return view.model_copy(update={"orders": [_marked_order(o) for o in view.orders]})


def _latest(events: list[Event], topic: str) -> Event | None:
    for event in reversed(events):
        if event.topic == topic:
            return event
    return None


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def _gate(
    box: Toolbox, backend: Backend, ticket: OrderTicket, node: str | None, *, action: str
) -> None:
    """The MCP gate (live allowed, per-order cap); a refusal is audited with the reason."""
    account = await backend.account(node)
    price = None
    if order_notional(ticket, None) is None:  # a market order by quantity: the last price
        found = last_price(await backend.market(ticket.symbol))
        price = None if found is None else found[0]
    try:
        check_order(box.policy, ticket, mode=account.mode, price=price)
    except ServiceError as exc:
        args = ticket.model_dump(mode="json", exclude_none=True)
        backend.refused(action, args, f"{exc.code}: {exc.message}")
        raise


def _register_books(server: MCPServer, box: Toolbox) -> None:
    """Mode, account, positions, orders, fills, P&L."""

    @server.tool(annotations=READ)
    async def get_trading_mode(ctx: Context, node: Node = None) -> TradingMode:
        """Sandbox, paper or live; which node and run; the kill switch; live orders allowed."""

        async def work(b: Backend) -> TradingMode:
            a = await b.account(node)
            return TradingMode(
                node=a.node,
                mode=a.mode,
                run_id=a.run_id,
                equity=a.equity,
                kill=a.kill,
                live_orders_allowed=a.mode == "live" and box.policy.allow_live,
                max_order_notional=box.policy.max_order_notional,
                transport=box.transport,
            )

        return await box.call(ctx, work)

    @server.tool(annotations=READ)
    async def get_account(ctx: Context, node: Node = None) -> AccountView:
        """Cash, equity, P&L, exposure and the kill switch of a node."""
        return await box.call(ctx, lambda b: b.account(node))

    @server.tool(annotations=READ)
    async def get_positions(ctx: Context, node: Node = None) -> PositionsView:
        """Positions (signed quantity) marked at the node's last prices."""
        return await box.call(ctx, lambda b: b.positions(node))

    @server.tool(annotations=READ)
    async def get_orders(
        ctx: Context,
        open_only: bool = True,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
        node: Node = None,
    ) -> OrdersView:
        """Open orders, or (open_only false) the newest orders of the journal."""
        found = await box.call(ctx, lambda b: b.orders(node, open_only=open_only, limit=limit))
        return _marked_orders(found)

    @server.tool(annotations=READ)
    async def get_fills(
        ctx: Context,
        since: datetime | None = None,
        limit: Annotated[int, Field(ge=1, le=5000)] = 200,
        node: Node = None,
    ) -> FillsView:
        """Fills, oldest first (the newest limit), optionally since a time."""
        return await box.call(ctx, lambda b: b.fills(node, since=since, limit=limit))

    @server.tool(annotations=READ)
    async def get_pnl(ctx: Context, since: datetime | None = None, node: Node = None) -> PnlView:
        """Realized and unrealized P&L and fees, per bot and per symbol."""
        return await box.call(ctx, lambda b: b.pnl(node, since=since))


def _register_market(server: MCPServer, box: Toolbox) -> None:
    """Bars, the newest price, a symbol's snapshot."""

    @server.tool(annotations=READ)
    async def get_bars(
        ctx: Context,
        *,
        symbol: Symbol,
        start: datetime,
        end: datetime,
        timeframe: Annotated[str, Field(max_length=16)] = "1Min",
        limit: Annotated[int, Field(ge=1, le=5000)] = 500,
    ) -> BarsView:
        """Stored historical bars of a symbol with start <= time < end."""
        return await box.call(
            ctx,
            lambda b: b.bars(
                symbol.upper(), timeframe=timeframe, start=start, end=end, limit=limit
            ),
        )

    @server.tool(annotations=READ)
    async def get_quote(ctx: Context, symbol: Symbol) -> QuoteView:
        """The newest price of a symbol from the live feed (quote, else trade, else bar)."""

        async def work(b: Backend) -> QuoteView:
            name = symbol.upper()
            events = await b.market(name)
            found = last_price(events)
            if found is None:
                raise ServiceError(
                    "no_price", f"the live feed has shown no price of {name} yet", status=404
                )
            price, event = found
            bid = ask = None
            if event.topic == "quotes":
                bid, ask = _dec(event.data.get("bid_price")), _dec(event.data.get("ask_price"))
            return QuoteView(
                symbol=name, price=price, source=event.topic, time=event.time, bid=bid, ask=ask
            )

        return await box.call(ctx, work)

    @server.tool(annotations=READ)
    async def get_snapshot(ctx: Context, symbol: Symbol, node: Node = None) -> SnapshotView:
        """A symbol at a glance: newest quote, trade and bar, the position, its open orders."""

        async def work(b: Backend) -> SnapshotView:
            name = symbol.upper()
            events = await b.market(name)
            held = [p for p in (await b.positions(node)).positions if p.symbol == name]
            orders = await b.orders(node, open_only=True, limit=1000)
            latest = {t: _latest(events, t) for t in ("quotes", "trades", "bars")}
            return SnapshotView(
                symbol=name,
                quote=None if latest["quotes"] is None else latest["quotes"].data,
                trade=None if latest["trades"] is None else latest["trades"].data,
                bar=None if latest["bars"] is None else latest["bars"].data,
                position=held[0] if held else None,
                open_orders=[_marked_order(o) for o in orders.orders if o.symbol == name],
            )

        return await box.call(ctx, work)


def _register_orders(server: MCPServer, box: Toolbox) -> None:
    """Place and replace orders (the MCP gate, then risk)."""

    @server.tool(annotations=DESTRUCTIVE)
    async def place_order(
        ctx: Context,
        *,
        symbol: Symbol,
        side: Literal["buy", "sell"],
        client_order_id: OrderId,
        qty: Positive | None = None,
        notional: Positive | None = None,
        type: Literal["market", "limit", "stop", "stop_limit"] = "market",
        time_in_force: Literal["day", "gtc", "ioc", "fok"] = "day",
        limit_price: Positive | None = None,
        stop_price: Positive | None = None,
        node: Node = None,
    ) -> OrderOutcome:
        """Place an order through risk (qty or notional); one order per client_order_id."""
        try:
            ticket = OrderTicket.model_validate(
                {
                    "symbol": symbol.upper(),
                    "side": side,
                    "qty": qty,
                    "notional": notional,
                    "type": type,
                    "time_in_force": time_in_force,
                    "limit_price": limit_price,
                    "stop_price": stop_price,
                    "client_order_id": client_order_id,
                }
            )
        except ValidationError as exc:
            raise invalid(exc) from None

        async def work(b: Backend) -> OrderOutcome:
            await _gate(box, b, ticket, node, action="orders.submit")
            return await b.submit(ticket, node)

        return await box.call(ctx, work)

    @server.tool(annotations=DESTRUCTIVE)
    async def replace_order(
        ctx: Context,
        *,
        client_order_id: OrderId,
        qty: Positive | None = None,
        limit_price: Positive | None = None,
        stop_price: Positive | None = None,
        node: Node = None,
    ) -> OrderOutcome:
        """Change an open order's quantity or prices (risk and the MCP cap check it first)."""
        try:
            change = OrderChange(qty=qty, limit_price=limit_price, stop_price=stop_price)
        except ValidationError as exc:
            raise invalid(exc) from None

        async def work(b: Backend) -> OrderOutcome:
            now = (await b.orders(node, open_only=True, limit=1000)).orders
            found = [o for o in now if o.client_order_id == client_order_id]
            if found:
                o = found[0]
                ticket = OrderTicket(
                    symbol=o.symbol,
                    side=o.side,
                    qty=change.qty or o.qty,
                    notional=None if (change.qty or o.qty) else o.notional,
                    type=o.type,
                    limit_price=change.limit_price or o.limit_price,
                    stop_price=change.stop_price or o.stop_price,
                )
                await _gate(box, b, ticket, node, action="orders.replace")
            return await b.replace(client_order_id, change, node)

        return await box.call(ctx, work)


def _register_controls(server: MCPServer, box: Toolbox) -> None:
    """Cancel, close, halt; the bots."""

    @server.tool(annotations=DESTRUCTIVE)
    async def cancel_order(
        ctx: Context, client_order_id: OrderId, node: Node = None
    ) -> OrderOutcome:
        """Cancel an open order by its client order id."""
        return await box.call(ctx, lambda b: b.cancel(client_order_id, node))

    @server.tool(annotations=DESTRUCTIVE)
    async def close_position(ctx: Context, symbol: Symbol, node: Node = None) -> CloseOutcome:
        """Close one position with market orders (each bot its part, the rest by hand)."""
        return await box.call(ctx, lambda b: b.close_position(symbol.upper(), node))

    @server.tool(annotations=DESTRUCTIVE)
    async def halt_trading(
        ctx: Context,
        reason: Annotated[str, Field(min_length=1, max_length=200)] = "halted over MCP",
        flatten: bool = False,
        node: Node = None,
    ) -> KillState:
        """The kill switch: refuse new orders, cancel open ones; flatten closes every position."""
        return await box.call(ctx, lambda b: b.halt(reason, flatten=flatten, node=node))

    @server.tool(annotations=READ)
    async def list_bots(ctx: Context, node: Node = None) -> BotsView:
        """The node's bots: status, paused, parameters (and which may change), positions."""
        return await box.call(ctx, lambda b: b.bots(node))

    @server.tool(annotations=STATE)
    async def pause_bot(ctx: Context, bot_id: BotId, node: Node = None) -> BotView:
        """Pause a bot: no new entries; what it holds is still managed."""
        return await box.call(ctx, lambda b: b.pause(bot_id, node))

    @server.tool(annotations=STATE)
    async def resume_bot(ctx: Context, bot_id: BotId, node: Node = None) -> BotView:
        """Resume a paused bot."""
        return await box.call(ctx, lambda b: b.resume(bot_id, node))

    @server.tool(annotations=DESTRUCTIVE.model_copy(update={"open_world_hint": False}))
    async def set_bot_params(
        ctx: Context,
        bot_id: BotId,
        values: Annotated[dict[str, bool | int | float | str], Field(min_length=1)],
        node: Node = None,
    ) -> BotView:
        """Change parameters a bot declares changeable (all or nothing)."""
        return await box.call(ctx, lambda b: b.set_params(bot_id, values, node))


def register_trading(server: MCPServer, box: Toolbox) -> None:
    """Add the trading tools to ``server``."""
    _register_books(server, box)
    _register_market(server, box)
    _register_orders(server, box)
    _register_controls(server, box)
