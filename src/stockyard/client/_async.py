"""``AsyncStockyardClient``: the typed asyncio client of ``/api/v1`` (the same calls as
``StockyardClient``, awaited)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import httpx
import orjson

from stockyard.client._requests import Request, calls, default_key, default_url
from stockyard.client._sync import parse_error, unreachable
from stockyard.services import (
    AccountView,
    AuditEntryView,
    BacktestSpec,
    BotsView,
    BotView,
    CloseOutcome,
    CompareSpec,
    Event,
    FillsView,
    JobView,
    KeyView,
    KillState,
    ModelDetailView,
    ModelView,
    MonteCarloSpec,
    NewKeyView,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    PnlView,
    PositionsView,
    ProcessView,
    RunSummary,
    WalkForwardSpec,
)

__all__ = ["AsyncStockyardClient"]

T = TypeVar("T")


class AsyncStockyardClient:
    """``/api/v1`` over HTTP, for asyncio. ``url`` defaults to ``STOCKYARD_URL`` (else the
    local hub), ``key`` to ``STOCKYARD_API_KEY`` (else the local admin key file). Errors:
    ``ApiError``."""

    def __init__(
        self,
        url: str | None = None,
        *,
        key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        secret = key if key is not None else default_key()
        headers = {"X-API-Key": secret} if secret else {}
        self._http = httpx.AsyncClient(
            base_url=f"{self.url}/api/v1", headers=headers, timeout=timeout, transport=transport
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncStockyardClient:
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()

    async def send(self, request: Request[T]) -> T:
        """Send one request; its answer parsed, or ``ApiError``."""
        try:
            response = await self._http.request(
                request.method, request.path, params=dict(request.params), json=request.body
            )
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
        if response.status_code >= 400:
            raise parse_error(response)
        return request.answer.validate_json(response.content)

    # -- trading ---------------------------------------------------------------------------

    async def account(self, *, node: str | None = None) -> AccountView:
        return await self.send(calls.account(node))

    async def positions(self, *, node: str | None = None) -> PositionsView:
        return await self.send(calls.positions(node))

    async def orders(
        self, *, node: str | None = None, open_only: bool = True, limit: int = 100
    ) -> OrdersView:
        return await self.send(calls.orders(node, open_only, limit))

    async def order(self, client_order_id: str, *, node: str | None = None) -> OrderView:
        return await self.send(calls.order(client_order_id, node))

    async def fills(
        self, *, node: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> FillsView:
        return await self.send(calls.fills(node, since, limit))

    async def pnl(self, *, node: str | None = None, since: datetime | None = None) -> PnlView:
        return await self.send(calls.pnl(node, since))

    async def bots(self, *, node: str | None = None) -> BotsView:
        return await self.send(calls.bots(node))

    async def submit(self, ticket: OrderTicket, *, node: str | None = None) -> OrderOutcome:
        return await self.send(calls.submit(ticket, node))

    async def cancel(self, client_order_id: str, *, node: str | None = None) -> OrderOutcome:
        return await self.send(calls.cancel(client_order_id, node))

    async def replace(
        self, client_order_id: str, change: OrderChange, *, node: str | None = None
    ) -> OrderOutcome:
        return await self.send(calls.replace(client_order_id, change, node))

    async def kill(
        self, reason: str = "operator", *, flatten: bool = False, node: str | None = None
    ) -> KillState:
        return await self.send(calls.kill(reason, flatten, node))

    async def reset(self, *, node: str | None = None) -> KillState:
        return await self.send(calls.reset(node))

    async def close_position(self, symbol: str, *, node: str | None = None) -> CloseOutcome:
        return await self.send(calls.close_position(symbol, node))

    async def close_all(self, *, node: str | None = None) -> CloseOutcome:
        return await self.send(calls.close_all(node))

    async def pause(self, bot_id: str, *, node: str | None = None) -> BotView:
        return await self.send(calls.pause(bot_id, node))

    async def resume(self, bot_id: str, *, node: str | None = None) -> BotView:
        return await self.send(calls.resume(bot_id, node))

    async def set_params(
        self, bot_id: str, values: Mapping[str, object], *, node: str | None = None
    ) -> BotView:
        return await self.send(calls.set_params(bot_id, values, node))

    # -- research, access, system ----------------------------------------------------------

    async def backtest(self, spec: BacktestSpec) -> JobView:
        return await self.send(calls.backtest(spec))

    async def walkforward(self, spec: WalkForwardSpec) -> JobView:
        return await self.send(calls.walkforward(spec))

    async def compare(self, spec: CompareSpec) -> JobView:
        return await self.send(calls.compare(spec))

    async def montecarlo(self, spec: MonteCarloSpec) -> JobView:
        return await self.send(calls.montecarlo(spec))

    async def jobs(self) -> list[JobView]:
        return await self.send(calls.jobs())

    async def job(self, job_id: str) -> JobView:
        return await self.send(calls.job(job_id))

    async def cancel_job(self, job_id: str) -> JobView:
        return await self.send(calls.cancel_job(job_id))

    async def models(self) -> list[ModelView]:
        """The ML bots' stored models."""
        return await self.send(calls.models())

    async def model(self, model_id: str) -> ModelDetailView:
        """One model (by id, or a name: its promoted model) with its top importances."""
        return await self.send(calls.model(model_id))

    async def runs(self) -> list[RunSummary]:
        return await self.send(calls.runs())

    async def run(self, run_id: str) -> dict[str, object]:
        return await self.send(calls.run(run_id))

    async def keys(self) -> list[KeyView]:
        return await self.send(calls.keys())

    async def create_key(
        self, name: str, scope: str = "read", *, rate_exempt: bool = False
    ) -> NewKeyView:
        return await self.send(calls.create_key(name, scope, rate_exempt))

    async def revoke_key(self, name: str) -> KeyView:
        return await self.send(calls.revoke_key(name))

    async def audit(
        self, *, limit: int = 100, action: str | None = None, key_name: str | None = None
    ) -> list[AuditEntryView]:
        return await self.send(calls.audit(limit, action, key_name))

    async def health(self) -> dict[str, object]:
        return await self.send(calls.health())

    async def processes(self) -> list[ProcessView]:
        """Every supervised process (503 in single-process mode)."""
        return await self.send(calls.processes())

    async def start_process(self, name: str) -> ProcessView:
        """Start a process and wait for its readiness (admin)."""
        return await self.send(calls.process_verb(name, "start"))

    async def stop_process(self, name: str) -> ProcessView:
        """Stop a process (admin)."""
        return await self.send(calls.process_verb(name, "stop"))

    async def restart_process(self, name: str) -> ProcessView:
        """Stop, then start a process and wait for its readiness (admin)."""
        return await self.send(calls.process_verb(name, "restart"))

    async def start_all(self) -> list[ProcessView]:
        """Start every process in dependency order (admin)."""
        return await self.send(calls.processes_verb("start"))

    async def stop_all(self) -> list[ProcessView]:
        """Stop every process in reverse dependency order (admin)."""
        return await self.send(calls.processes_verb("stop"))

    # -- events ----------------------------------------------------------------------------

    async def events(
        self, topics: str | None = None, *, last_event_id: int | None = None
    ) -> AsyncIterator[Event]:
        """Live events as they come (SSE), after ``last_event_id`` when given."""
        params = {"topics": topics} if topics else {}
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        try:
            async with self._http.stream(
                "GET", "/events", params=params, headers=headers, timeout=None
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise parse_error(response)
                data: list[str] = []
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    elif not line and data:
                        yield Event.model_validate(orjson.loads("\n".join(data)))
                        data = []
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
