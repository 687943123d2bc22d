"""What the MCP tools need of the system, as one small protocol with two implementations:
``LocalBackend`` (the services of this process, for the hub's ``/mcp``) and ``HttpBackend``
(``/api/v1`` of a running hub, for ``stockyard mcp`` over stdio; see ``_http``).

Every verb goes through the same service method, risk gate and audit log as the REST API;
errors are ``ServiceError`` in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from stockyard.services import (
    AccountView,
    BacktestSpec,
    BarsView,
    BotsView,
    BotView,
    Caller,
    CloseOutcome,
    Event,
    FillsView,
    JobView,
    KillState,
    ModelDetailView,
    ModelView,
    MonteCarloSpec,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    PnlView,
    PositionsView,
    RunSummary,
    Services,
    WalkForwardSpec,
)

__all__ = ["MARKET_TOPICS", "Backend", "LocalBackend"]

MARKET_TOPICS = ("quotes", "trades", "bars")


class Backend(Protocol):
    """The service calls of the MCP tools, for one caller."""

    async def account(self, node: str | None) -> AccountView: ...
    async def positions(self, node: str | None) -> PositionsView: ...
    async def orders(self, node: str | None, *, open_only: bool, limit: int) -> OrdersView: ...
    async def fills(self, node: str | None, *, since: datetime | None, limit: int) -> FillsView: ...
    async def pnl(self, node: str | None, *, since: datetime | None) -> PnlView: ...
    async def bots(self, node: str | None) -> BotsView: ...
    async def submit(self, ticket: OrderTicket, node: str | None) -> OrderOutcome: ...
    async def replace(
        self, client_order_id: str, change: OrderChange, node: str | None
    ) -> OrderOutcome: ...
    async def cancel(self, client_order_id: str, node: str | None) -> OrderOutcome: ...
    async def close_position(self, symbol: str, node: str | None) -> CloseOutcome: ...
    async def halt(self, reason: str, *, flatten: bool, node: str | None) -> KillState: ...
    async def pause(self, bot_id: str, node: str | None) -> BotView: ...
    async def resume(self, bot_id: str, node: str | None) -> BotView: ...
    async def set_params(
        self, bot_id: str, values: Mapping[str, object], node: str | None
    ) -> BotView: ...
    async def backtest(self, spec: BacktestSpec) -> JobView: ...
    async def walkforward(self, spec: WalkForwardSpec) -> JobView: ...
    async def montecarlo(self, spec: MonteCarloSpec) -> JobView: ...
    async def job(self, job_id: str) -> JobView: ...
    async def runs(self) -> list[RunSummary]: ...
    async def run(self, run_id: str) -> dict[str, object]: ...
    async def health(self) -> dict[str, object]: ...
    async def errors(self) -> dict[str, object]: ...
    async def alerts(self, *, limit: int) -> list[dict[str, object]]: ...
    async def bars(
        self, symbol: str, *, timeframe: str, start: datetime, end: datetime, limit: int
    ) -> BarsView: ...
    async def market(self, symbol: str) -> list[Event]: ...
    async def models(self) -> list[ModelView]: ...
    async def model(self, model_id: str) -> ModelDetailView: ...
    def refused(self, action: str, args: Mapping[str, object], reason: str) -> None: ...


class LocalBackend:
    """The services of this process, called as ``caller`` (``via`` ``mcp``)."""

    def __init__(self, services: Services, caller: Caller) -> None:
        self.services = services
        self.caller = caller

    async def account(self, node: str | None) -> AccountView:
        return await self.services.trading.account(node=node)

    async def positions(self, node: str | None) -> PositionsView:
        return await self.services.trading.positions(node=node)

    async def orders(self, node: str | None, *, open_only: bool, limit: int) -> OrdersView:
        return await self.services.trading.orders(node=node, open_only=open_only, limit=limit)

    async def fills(self, node: str | None, *, since: datetime | None, limit: int) -> FillsView:
        return await self.services.trading.fills(node=node, since=since, limit=limit)

    async def pnl(self, node: str | None, *, since: datetime | None) -> PnlView:
        return await self.services.trading.pnl(node=node, since=since)

    async def bots(self, node: str | None) -> BotsView:
        return await self.services.trading.bots(node=node)

    async def submit(self, ticket: OrderTicket, node: str | None) -> OrderOutcome:
        return await self.services.trading.submit(ticket, caller=self.caller, node=node)

    async def replace(
        self, client_order_id: str, change: OrderChange, node: str | None
    ) -> OrderOutcome:
        return await self.services.trading.replace(
            client_order_id, change, caller=self.caller, node=node
        )

    async def cancel(self, client_order_id: str, node: str | None) -> OrderOutcome:
        return await self.services.trading.cancel(client_order_id, caller=self.caller, node=node)

    async def close_position(self, symbol: str, node: str | None) -> CloseOutcome:
        return await self.services.trading.close_position(symbol, caller=self.caller, node=node)

    async def halt(self, reason: str, *, flatten: bool, node: str | None) -> KillState:
        return await self.services.trading.halt(
            reason, flatten=flatten, caller=self.caller, node=node
        )

    async def pause(self, bot_id: str, node: str | None) -> BotView:
        return await self.services.trading.pause(bot_id, caller=self.caller, node=node)

    async def resume(self, bot_id: str, node: str | None) -> BotView:
        return await self.services.trading.resume(bot_id, caller=self.caller, node=node)

    async def set_params(
        self, bot_id: str, values: Mapping[str, object], node: str | None
    ) -> BotView:
        return await self.services.trading.set_params(bot_id, values, caller=self.caller, node=node)

    async def backtest(self, spec: BacktestSpec) -> JobView:
        return await self.services.research.backtest(spec, caller=self.caller)

    async def walkforward(self, spec: WalkForwardSpec) -> JobView:
        return await self.services.research.walkforward(spec, caller=self.caller)

    async def montecarlo(self, spec: MonteCarloSpec) -> JobView:
        return await self.services.research.montecarlo(spec, caller=self.caller)

    async def job(self, job_id: str) -> JobView:
        return self.services.research.job(job_id)

    async def runs(self) -> list[RunSummary]:
        return self.services.research.runs()

    async def run(self, run_id: str) -> dict[str, object]:
        return self.services.research.run(run_id)

    async def health(self) -> dict[str, object]:
        return self.services.system.health()

    async def errors(self) -> dict[str, object]:
        return self.services.system.errors()

    async def alerts(self, *, limit: int) -> list[dict[str, object]]:
        return await self.services.system.alerts(limit=limit)

    async def bars(
        self, symbol: str, *, timeframe: str, start: datetime, end: datetime, limit: int
    ) -> BarsView:
        return self.services.data.bars(
            symbol, timeframe=timeframe, start=start, end=end, limit=limit
        )

    async def market(self, symbol: str) -> list[Event]:
        return [e for e in self.services.events.since(0, MARKET_TOPICS) if e.subject == symbol]

    async def models(self) -> list[ModelView]:
        return await self.services.models.models()

    async def model(self, model_id: str) -> ModelDetailView:
        return await self.services.models.model(model_id)

    def refused(self, action: str, args: Mapping[str, object], reason: str) -> None:
        """Record in the audit log a call the MCP gate refused before any service ran."""
        self.services.access.auditor.record(self.caller, action, args, ok=False, result=reason)
