"""The Trading service: books, orders and bots of every node, and the control verbs.

Reads need no scope of their own (the faces check ``read``); orders, closes and bot changes
need ``trade``; halting needs ``trade`` (stopping is never harder than trading) and
resetting a halt needs ``admin``. Every verb lands in the audit log once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from stockyard.services._access import Auditor, Caller
from stockyard.services._errors import ServiceError
from stockyard.services._models import (
    AccountView,
    BotsView,
    BotView,
    CloseOutcome,
    EquityView,
    FillsView,
    KillState,
    NodeStatusView,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    PnlView,
    PositionsView,
)
from stockyard.services._node_client import NodeClient
from stockyard.store import KeyScope

__all__ = ["EQUITY_SPANS", "TradingService"]

# How far back each span of the equity curve reaches (None: since midnight UTC).
EQUITY_SPANS: dict[str, timedelta | None] = {
    "day": None,
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "all": None,
}


class TradingService:
    """Calls into the nodes by name (``node=None``: the first one)."""

    def __init__(self, nodes: Mapping[str, NodeClient], *, auditor: Auditor) -> None:
        self.nodes = dict(nodes)
        self.auditor = auditor

    def node(self, name: str | None = None) -> NodeClient:
        """The node ``name`` (default: the first); 503 when none runs, 404 when unknown."""
        if not self.nodes:
            raise ServiceError("no_node", "no trading node is running", status=503)
        if name is None:
            return next(iter(self.nodes.values()))
        found = self.nodes.get(name)
        if found is None:
            known = ", ".join(self.nodes)
            raise ServiceError("unknown_node", f"no node {name!r} (known: {known})", status=404)
        return found

    def add_node(self, client: NodeClient) -> None:
        """Reach one more node (the orchestrator adds each node's socket client)."""
        self.nodes[client.name] = client

    async def close(self) -> None:
        """Close every node client."""
        for client in self.nodes.values():
            await client.close()

    # -- reads -----------------------------------------------------------------------------

    async def account(self, *, node: str | None = None) -> AccountView:
        """Cash, equity, P&L, exposure and the kill switch of a node."""
        return await self.node(node).account()

    async def positions(self, *, node: str | None = None) -> PositionsView:
        """Positions of a node, marked at its last prices."""
        return await self.node(node).positions()

    async def orders(
        self, *, node: str | None = None, open_only: bool = True, limit: int = 100
    ) -> OrdersView:
        """Open orders, or (``open_only=False``) the newest orders of the journal."""
        return await self.node(node).orders(open_only=open_only, limit=limit)

    async def order(self, client_order_id: str, *, node: str | None = None) -> OrderView:
        """One order by its client order id."""
        return await self.node(node).order(client_order_id)

    async def fills(
        self, *, node: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> FillsView:
        """Fills, oldest first (the newest ``limit``)."""
        return await self.node(node).fills(since=since, limit=limit)

    async def pnl(self, *, node: str | None = None, since: datetime | None = None) -> PnlView:
        """P&L per bot and per symbol."""
        return await self.node(node).pnl(since=since)

    async def bots(self, *, node: str | None = None) -> BotsView:
        """The node's bots with state and parameters."""
        return await self.node(node).bots()

    async def equity(self, *, node: str | None = None, since: datetime | None = None) -> EquityView:
        """The node's equity curve across its runs since ``since`` (its clock), then now."""
        return await self.node(node).equity(since=since)

    async def statuses(self) -> list[NodeStatusView]:
        """Every node's counters and feed lag (a node that does not answer is left out)."""
        out = []
        for client in self.nodes.values():
            try:
                out.append(await client.status())
            except ServiceError:
                continue
        return out

    async def equity_curve(
        self, span: str = "day", *, node: str | None = None, points: int = 1_000
    ) -> EquityView:
        """The node's equity over the last ``span`` (``day``: since midnight UTC of the
        node's clock; ``week``, ``month``: 7 or 30 days back; ``all``: the newest 20,000
        snapshots) as at most
        ``points`` points (spread evenly, the first and the last kept)."""
        if span not in EQUITY_SPANS:
            known = ", ".join(EQUITY_SPANS)
            raise ServiceError("bad_span", f"no span {span!r} (known: {known})", status=400)
        client = self.node(node)
        cutoff = None
        if span != "all":
            newest = (await client.status()).time.astimezone(UTC)  # the node's clock
            back = EQUITY_SPANS[span]
            midnight = newest.replace(hour=0, minute=0, second=0, microsecond=0)
            cutoff = midnight if back is None else newest - back
        found = await client.equity(since=cutoff)
        curve = found.points
        if len(curve) > points >= 2:  # evenly spread, the first and the last kept
            last = len(curve) - 1
            curve = [curve[round(i * last / (points - 1))] for i in range(points)]
        since = curve[0].time if curve else None
        return found.model_copy(update={"points": curve, "since": since})

    # -- verbs -----------------------------------------------------------------------------

    async def submit(
        self, ticket: OrderTicket, *, caller: Caller, node: str | None = None
    ) -> OrderOutcome:
        """Place an order through risk (idempotent by ``ticket.client_order_id``)."""
        client = self.node(node)
        args = ticket.model_dump(mode="json", exclude_none=True)

        async def work() -> OrderOutcome:
            return _accepted(await client.submit(ticket), status=422)

        return await self.auditor.call(caller, "orders.submit", args, work)

    async def cancel(
        self, client_order_id: str, *, caller: Caller, node: str | None = None
    ) -> OrderOutcome:
        """Ask to cancel an open order."""
        client = self.node(node)
        args = {"client_order_id": client_order_id}

        async def work() -> OrderOutcome:
            return _accepted(await client.cancel(client_order_id), status=409)

        return await self.auditor.call(caller, "orders.cancel", args, work)

    async def replace(
        self,
        client_order_id: str,
        change: OrderChange,
        *,
        caller: Caller,
        node: str | None = None,
    ) -> OrderOutcome:
        """Replace an open order (risk checks the changed order first)."""
        client = self.node(node)
        args = {"client_order_id": client_order_id, **change.model_dump(mode="json")}
        return await self.auditor.call(
            caller, "orders.replace", args, lambda: client.replace(client_order_id, change)
        )

    async def halt(
        self, reason: str, *, flatten: bool, caller: Caller, node: str | None = None
    ) -> KillState:
        """The kill switch: refuse opening orders, cancel open ones; ``flatten`` closes
        every position too."""
        client = self.node(node)
        args = {"reason": reason, "flatten": flatten}
        action = "kill.flatten" if flatten else "kill.halt"
        return await self.auditor.call(
            caller, action, args, lambda: client.halt(reason, flatten=flatten)
        )

    async def reset(self, *, caller: Caller, node: str | None = None) -> KillState:
        """Release the kill switch (admin)."""
        client = self.node(node)
        return await self.auditor.call(caller, "kill.reset", {}, client.reset, scope=KeyScope.ADMIN)

    async def close_position(
        self, symbol: str, *, caller: Caller, node: str | None = None
    ) -> CloseOutcome:
        """Close one position (each bot closes its part, the rest by hand)."""
        client = self.node(node)
        return await self.auditor.call(
            caller, "positions.close", {"symbol": symbol}, lambda: client.close_position(symbol)
        )

    async def close_all(self, *, caller: Caller, node: str | None = None) -> CloseOutcome:
        """Close every position."""
        client = self.node(node)
        return await self.auditor.call(caller, "positions.close_all", {}, client.close_all)

    async def pause(self, bot_id: str, *, caller: Caller, node: str | None = None) -> BotView:
        """Pause a bot: no new entries, what it holds still managed."""
        client = self.node(node)
        return await self.auditor.call(
            caller, "bots.pause", {"bot": bot_id}, lambda: client.pause(bot_id)
        )

    async def resume(self, bot_id: str, *, caller: Caller, node: str | None = None) -> BotView:
        """Resume a paused bot."""
        client = self.node(node)
        return await self.auditor.call(
            caller, "bots.resume", {"bot": bot_id}, lambda: client.resume(bot_id)
        )

    async def set_params(
        self,
        bot_id: str,
        values: Mapping[str, object],
        *,
        caller: Caller,
        node: str | None = None,
    ) -> BotView:
        """Change parameters the bot declares changeable (all or nothing)."""
        client = self.node(node)
        args = {"bot": bot_id, "values": dict(values)}
        return await self.auditor.call(
            caller, "bots.set", args, lambda: client.set_params(bot_id, dict(values))
        )


def _accepted(outcome: OrderOutcome, *, status: int) -> OrderOutcome:
    """``outcome`` when accepted; a refusal becomes a ``ServiceError`` with its reason."""
    if outcome.accepted:
        return outcome
    code = outcome.code or "refused"
    raise ServiceError(code, outcome.reason or code, status=status)
