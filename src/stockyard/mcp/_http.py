"""``HttpBackend``: the MCP tools' service calls over ``/api/v1`` of a running hub, through
``stockyard.client`` (the same routes, risk gate and audit log as any REST caller)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Mapping
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter

from stockyard.client import ApiError, AsyncStockyardClient, Request
from stockyard.mcp._backend import MARKET_TOPICS
from stockyard.services import (
    AccountView,
    BacktestSpec,
    BarsView,
    BotsView,
    BotView,
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
    ServiceError,
    WalkForwardSpec,
)

__all__ = ["HttpBackend"]

T = TypeVar("T")
_DICT: TypeAdapter[dict[str, object]] = TypeAdapter(dict[str, object])
_DICTS: TypeAdapter[list[dict[str, object]]] = TypeAdapter(list[dict[str, object]])
_BARS: TypeAdapter[BarsView] = TypeAdapter(BarsView)
# The hub replays its ring of recent events at once, then waits for new ones: the replay
# has ended when nothing came for this long (or, at the latest, after _REPLAY_MAX_S).
_REPLAY_GAP_S = 0.3
_REPLAY_MAX_S = 3.0


async def _answer(work: Awaitable[T]) -> T:
    try:
        return await work
    except ApiError as exc:
        raise ServiceError(exc.code, exc.message, status=exc.status or 503) from None


class HttpBackend:
    """``/api/v1`` at ``client.url`` with ``client``'s key (the hub checks its scope)."""

    def __init__(self, client: AsyncStockyardClient) -> None:
        self.client = client

    async def account(self, node: str | None) -> AccountView:
        return await _answer(self.client.account(node=node))

    async def positions(self, node: str | None) -> PositionsView:
        return await _answer(self.client.positions(node=node))

    async def orders(self, node: str | None, *, open_only: bool, limit: int) -> OrdersView:
        return await _answer(self.client.orders(node=node, open_only=open_only, limit=limit))

    async def fills(self, node: str | None, *, since: datetime | None, limit: int) -> FillsView:
        return await _answer(self.client.fills(node=node, since=since, limit=limit))

    async def pnl(self, node: str | None, *, since: datetime | None) -> PnlView:
        return await _answer(self.client.pnl(node=node, since=since))

    async def bots(self, node: str | None) -> BotsView:
        return await _answer(self.client.bots(node=node))

    async def submit(self, ticket: OrderTicket, node: str | None) -> OrderOutcome:
        return await _answer(self.client.submit(ticket, node=node))

    async def replace(
        self, client_order_id: str, change: OrderChange, node: str | None
    ) -> OrderOutcome:
        return await _answer(self.client.replace(client_order_id, change, node=node))

    async def cancel(self, client_order_id: str, node: str | None) -> OrderOutcome:
        return await _answer(self.client.cancel(client_order_id, node=node))

    async def close_position(self, symbol: str, node: str | None) -> CloseOutcome:
        return await _answer(self.client.close_position(symbol, node=node))

    async def halt(self, reason: str, *, flatten: bool, node: str | None) -> KillState:
        return await _answer(self.client.kill(reason, flatten=flatten, node=node))

    async def pause(self, bot_id: str, node: str | None) -> BotView:
        return await _answer(self.client.pause(bot_id, node=node))

    async def resume(self, bot_id: str, node: str | None) -> BotView:
        return await _answer(self.client.resume(bot_id, node=node))

    async def set_params(
        self, bot_id: str, values: Mapping[str, object], node: str | None
    ) -> BotView:
        return await _answer(self.client.set_params(bot_id, dict(values), node=node))

    async def backtest(self, spec: BacktestSpec) -> JobView:
        return await _answer(self.client.backtest(spec))

    async def walkforward(self, spec: WalkForwardSpec) -> JobView:
        return await _answer(self.client.walkforward(spec))

    async def montecarlo(self, spec: MonteCarloSpec) -> JobView:
        return await _answer(self.client.montecarlo(spec))

    async def job(self, job_id: str) -> JobView:
        return await _answer(self.client.job(job_id))

    async def runs(self) -> list[RunSummary]:
        return await _answer(self.client.runs())

    async def run(self, run_id: str) -> dict[str, object]:
        return await _answer(self.client.run(run_id))

    async def health(self) -> dict[str, object]:
        return await _answer(self.client.health())

    async def models(self) -> list[ModelView]:
        return await _answer(self.client.models())

    async def model(self, model_id: str) -> ModelDetailView:
        return await _answer(self.client.model(model_id))

    # The client has no call for these three routes yet: the same requests, built here.

    async def errors(self) -> dict[str, object]:
        return await _answer(self.client.send(Request("GET", "/system/errors", _DICT)))

    async def alerts(self, *, limit: int) -> list[dict[str, object]]:
        request = Request("GET", "/system/alerts", _DICTS, {"limit": limit})
        return await _answer(self.client.send(request))

    async def bars(
        self, symbol: str, *, timeframe: str, start: datetime, end: datetime, limit: int
    ) -> BarsView:
        params: dict[str, str | int] = {
            "timeframe": timeframe,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "limit": limit,
        }
        path = f"/data/bars/{quote(symbol, safe='')}"
        return await _answer(self.client.send(Request("GET", path, _BARS, params)))

    async def market(self, symbol: str) -> list[Event]:
        """The hub's kept market events of ``symbol`` (its ring, replayed over SSE)."""
        found: list[Event] = []
        stream = self.client.events(",".join(MARKET_TOPICS), last_event_id=0)
        loop = asyncio.get_running_loop()
        ends = loop.time() + _REPLAY_MAX_S
        try:
            while (left := ends - loop.time()) > 0:
                try:
                    event = await asyncio.wait_for(anext(stream), min(_REPLAY_GAP_S, left))
                except (TimeoutError, StopAsyncIteration):
                    break
                if event.subject == symbol:
                    found.append(event)
        except ApiError as exc:
            raise ServiceError(exc.code, exc.message, status=exc.status or 503) from None
        finally:
            if isinstance(stream, AsyncGenerator):
                with contextlib.suppress(RuntimeError):
                    await stream.aclose()
        return found

    def refused(self, action: str, args: Mapping[str, object], reason: str) -> None:
        """Nothing to record: no service ran (the hub's audit log has no route to write)."""
