"""``/api/v1`` routes of the System, Research, Data and Access services."""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations, some
# of them aliases local to the function that builds the router.

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from stockyard.api._v1_auth import ERROR_RESPONSES, ApiError, scoped
from stockyard.health import AlertState
from stockyard.services import (
    AuditEntryView,
    BacktestSpec,
    BarsView,
    Caller,
    CatalogEntryView,
    CompareSpec,
    FetchSpec,
    GapsView,
    JobView,
    KeyView,
    LogTail,
    ModelDetailView,
    ModelView,
    MonteCarloSpec,
    NewKeyView,
    ProcessView,
    RunCompareView,
    RunSummary,
    Services,
    WalkForwardSpec,
)
from stockyard.store import KeyScope

__all__ = ["system_routers"]

Name = Annotated[str, Path(min_length=1, max_length=128)]
_Responses = dict[int | str, dict[str, object]]
_MORE: _Responses = {
    404: {"model": ApiError, "description": "unknown name or id"},
    409: {"model": ApiError, "description": "conflicts with the state"},
}


class NewKeyRequest(BaseModel):
    """A key to make."""

    name: str = Field(min_length=1, max_length=128)
    scope: KeyScope = KeyScope.READ
    rate_exempt: bool = False


def _system_router(
    services: Services, caller: Callable[..., Awaitable[Caller]], responses: _Responses
) -> APIRouter:
    """Health, errors, breakers, alerts and logs."""
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias
    Who = Annotated[Caller, Depends(caller)]  # noqa: N806 - a type alias
    system = APIRouter(prefix="/system", tags=["system"], responses=responses)

    @system.get("/health")
    async def health(_who: Reader) -> dict[str, object]:
        """Every health check's latest result."""
        return services.system.health()

    @system.get("/errors")
    async def errors(_who: Reader) -> dict[str, object]:
        """Top errors by category, recent errors, breakers, recovery actions."""
        return services.system.errors()

    @system.get("/breakers")
    async def breakers(_who: Reader) -> dict[str, dict[str, object]]:
        """Each circuit breaker's state."""
        return services.system.breakers()

    @system.post("/breakers/{name}/reset")
    async def reset_breaker(who: Who, name: Name) -> dict[str, object]:
        """Close a breaker by hand (admin)."""
        return await services.system.reset_breaker(name, caller=who)

    @system.get("/alerts")
    async def alerts(
        _who: Reader,
        state: AlertState | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> list[dict[str, object]]:
        """Alert history, newest first."""
        return await services.system.alerts(state=state, limit=limit)

    @system.post("/alerts/{alert_id}/ack")
    async def acknowledge(who: Who, alert_id: Name) -> dict[str, object]:
        """Acknowledge an alert (trade)."""
        return await services.system.acknowledge(alert_id, caller=who)

    @system.get("/logs/{component}")
    async def logs(
        _who: Reader, component: Name, lines: Annotated[int, Query(ge=1, le=10_000)] = 100
    ) -> LogTail:
        """The last lines of a component's log, secrets redacted."""
        return services.system.logs(component, lines=lines)

    return system


def _research_router(
    services: Services, caller: Callable[..., Awaitable[Caller]], responses: _Responses
) -> APIRouter:
    """Research jobs and stored runs."""
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias
    Who = Annotated[Caller, Depends(caller)]  # noqa: N806 - a type alias
    research = APIRouter(tags=["research"], responses=responses)

    @research.post("/research/backtests", status_code=202)
    async def backtest(who: Who, spec: BacktestSpec) -> JobView:
        """Start a backtest job (trade); progress on the event stream (topic ``jobs``)."""
        return await services.research.backtest(spec, caller=who)

    @research.post("/research/walkforwards", status_code=202)
    async def walkforward(who: Who, spec: WalkForwardSpec) -> JobView:
        """Start a walk-forward job (trade)."""
        return await services.research.walkforward(spec, caller=who)

    @research.post("/research/comparisons", status_code=202)
    async def comparison(who: Who, spec: CompareSpec) -> JobView:
        """Start a comparison job (trade): several strategies or parameter sets."""
        return await services.research.compare(spec, caller=who)

    @research.post("/research/montecarlo", status_code=202)
    async def montecarlo(who: Who, spec: MonteCarloSpec) -> JobView:
        """Start a Monte Carlo job over a stored run (trade)."""
        return await services.research.montecarlo(spec, caller=who)

    @research.get("/jobs")
    async def jobs(_who: Reader) -> list[JobView]:
        """Jobs of this hub, newest first."""
        return services.research.jobs()

    @research.get("/jobs/{job_id}")
    async def job(_who: Reader, job_id: Name) -> JobView:
        """One job with its progress, and its result once done."""
        return services.research.job(job_id)

    @research.post("/jobs/{job_id}/cancel")
    async def cancel_job(who: Who, job_id: Name) -> JobView:
        """Ask a job to stop (trade)."""
        return await services.research.cancel(job_id, caller=who)

    @research.get("/runs")
    async def runs(_who: Reader) -> list[RunSummary]:
        """Stored backtest runs."""
        return services.research.runs()

    @research.get("/runs/compare")
    async def compare_runs(
        _who: Reader,
        runs: Annotated[list[str], Query(max_length=8)] = [],  # noqa: B006
    ) -> RunCompareView:
        """Stored runs' metrics side by side (2 to 8: ``?runs=a&runs=b``)."""
        return services.research.compare_runs(runs)

    @research.get("/runs/{run_id}")
    async def run(_who: Reader, run_id: Name) -> dict[str, object]:
        """A stored run's results: metrics, trades, orders, equity."""
        return services.research.run(run_id)

    return research


def _data_router(
    services: Services, caller: Callable[..., Awaitable[Caller]], responses: _Responses
) -> APIRouter:
    """The bar store: catalog, bars, fetch."""
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias
    Who = Annotated[Caller, Depends(caller)]  # noqa: N806 - a type alias
    data = APIRouter(prefix="/data", tags=["data"], responses=responses)

    @data.get("/catalog")
    async def catalog(
        _who: Reader, symbol: Annotated[str | None, Query(max_length=32)] = None
    ) -> list[CatalogEntryView]:
        """What the store holds per symbol and timeframe (coverage)."""
        return services.data.catalog(symbol=symbol)

    @data.get("/bars/{symbol}")
    async def bars(
        _who: Reader,
        symbol: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9./]+$")],
        start: datetime,
        end: datetime,
        timeframe: Annotated[str, Query(max_length=16)] = "1Min",
        limit: Annotated[int, Query(ge=1, le=100_000)] = 5000,
    ) -> BarsView:
        """Bars of a symbol with start <= time < end."""
        return services.data.bars(symbol, timeframe=timeframe, start=start, end=end, limit=limit)

    @data.get("/gaps")
    async def gaps(
        _who: Reader,
        symbol: Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9./]+$")] = None,
    ) -> list[GapsView]:
        """Each stored series' gaps against the market calendar (NYSE sessions for stocks,
        around the clock for crypto): count, market time missing, the largest ones."""
        return await run_in_threadpool(lambda: services.data.gaps(symbol=symbol))

    @data.post("/fetch/jobs", status_code=202)
    async def fetch_job(who: Who, spec: FetchSpec) -> JobView:
        """Fetch as a background job (trade); its progress on the event stream (jobs)."""
        return await services.data.fetch_job(spec, caller=who)

    @data.post("/fetch")
    async def fetch(who: Who, spec: FetchSpec) -> dict[str, int]:
        """Write bars from a source into the store (trade); rows per symbol."""
        return await services.data.fetch(spec, caller=who)

    return data


def _models_router(
    services: Services, caller: Callable[..., Awaitable[Caller]], responses: _Responses
) -> APIRouter:
    """The ML bots' model registry."""
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias
    models = APIRouter(prefix="/models", tags=["models"], responses=responses)

    @models.get("")
    async def list_models(_who: Reader) -> list[ModelView]:
        """The ML bots' stored models: data, in- and out-of-sample metrics, pin, hash."""
        return await services.models.models()

    @models.get("/{model_id}")
    async def get_model(_who: Reader, model_id: Name) -> ModelDetailView:
        """One model (by id, or a name: its promoted model) with its top importances."""
        return await services.models.model(model_id)

    return models


def _processes_router(
    services: Services, caller: Callable[..., Awaitable[Caller]], responses: _Responses
) -> APIRouter:
    """The supervised processes: read with ``read``; the service checks ``admin`` for
    control and audits it. 503 when the hub runs no supervisor (single-process mode)."""
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias
    Who = Annotated[Caller, Depends(caller)]  # noqa: N806 - a type alias
    more: _Responses = {503: {"model": ApiError, "description": "no supervisor runs"}}
    processes = APIRouter(prefix="/processes", tags=["processes"], responses=responses | more)
    service = services.processes

    @processes.get("")
    async def list_processes(_who: Reader) -> list[ProcessView]:
        """Every process in start order: supervisord's state, pid, uptime, restarts, CPU %,
        RSS, threads, open files."""
        return await service.processes()

    @processes.post("/start-all")
    async def start_all(who: Who) -> list[ProcessView]:
        """Start every process in dependency order, each once its dependencies are ready
        (admin)."""
        return await service.start_all(caller=who)

    @processes.post("/stop-all")
    async def stop_all(who: Who) -> list[ProcessView]:
        """Stop every process in reverse dependency order (admin)."""
        return await service.stop_all(caller=who)

    @processes.post("/{name}/start")
    async def start(who: Who, name: Name) -> ProcessView:
        """Start a process and wait for its readiness probe (admin)."""
        return await service.start(name, caller=who)

    @processes.post("/{name}/stop")
    async def stop(who: Who, name: Name) -> ProcessView:
        """Stop a process (admin)."""
        return await service.stop(name, caller=who)

    @processes.post("/{name}/restart")
    async def restart(who: Who, name: Name) -> ProcessView:
        """Stop a process, then start it and wait for its readiness (admin)."""
        return await service.restart(name, caller=who)

    return processes


def _access_router(
    services: Services, caller: Callable[..., Awaitable[Caller]], responses: _Responses
) -> APIRouter:
    """API keys and the audit log."""
    Admin = Annotated[Caller, Depends(scoped(caller, KeyScope.ADMIN))]  # noqa: N806 - a type alias
    Who = Annotated[Caller, Depends(caller)]  # noqa: N806 - a type alias
    access = APIRouter(tags=["access"], responses=responses)

    @access.get("/keys")
    async def keys(_who: Admin) -> list[KeyView]:
        """Every key (admin), never a secret."""
        return services.access.list_keys()

    @access.post("/keys", status_code=201)
    async def create_key(who: Who, body: NewKeyRequest) -> NewKeyView:
        """Make a key (admin); its secret is in this answer only."""
        return services.access.create_key(
            body.name, body.scope, caller=who, rate_exempt=body.rate_exempt
        )

    @access.delete("/keys/{name}")
    async def revoke_key(who: Who, name: Name) -> KeyView:
        """Revoke a key by name or id (admin)."""
        return services.access.revoke_key(name, caller=who)

    @access.get("/audit")
    async def audit(
        _who: Admin,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
        action: Annotated[str | None, Query(max_length=64)] = None,
        key_name: Annotated[str | None, Query(max_length=128)] = None,
        since: datetime | None = None,
    ) -> list[AuditEntryView]:
        """The audit log (admin), newest first."""
        return services.access.audit(limit=limit, action=action, key_name=key_name, since=since)

    return access


def system_routers(services: Services, caller: Callable[..., Awaitable[Caller]]) -> list[APIRouter]:
    """Routers for system, research, data, models, keys, audit and processes."""
    responses: _Responses = {**ERROR_RESPONSES, **_MORE}
    return [
        _system_router(services, caller, responses),
        _research_router(services, caller, responses),
        _data_router(services, caller, responses),
        _models_router(services, caller, responses),
        _access_router(services, caller, responses),
        _processes_router(services, caller, responses),
    ]
