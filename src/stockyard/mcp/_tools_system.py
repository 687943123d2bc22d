"""The research tools (backtest, walk-forward, Monte Carlo as jobs), the strategy catalog,
and the system's health, errors and alerts."""

# No ``from __future__ import annotations``: the SDK reads the tools' annotations to build
# their schemas.

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stockyard.mcp._backend import Backend
from stockyard.mcp._catalog import StrategyInfo, strategy_catalog
from stockyard.mcp._safety import data_fields
from stockyard.mcp._toolbox import READ, RESEARCH, Toolbox, invalid
from stockyard.services import (
    BacktestSpec,
    JobView,
    ModelDetailView,
    ModelView,
    MonteCarloSpec,
    WalkForwardSpec,
)

__all__ = ["JobAnswer", "register_system"]

Symbols = Annotated[list[str], Field(min_length=1, max_length=20, description='e.g. ["AAPL"]')]
Strategy = Annotated[str, Field(min_length=1, max_length=200, description="see list_strategies")]
Source = Literal["auto", "local", "s3", "alpaca", "synthetic"]
Seed = Annotated[int, Field(ge=0, le=2**31)]
Scalar = bool | int | float | str


class JobAnswer(BaseModel):
    """A research job, and where its stored result can be read once it is done."""

    model_config = ConfigDict(frozen=True)

    job: JobView
    report: str | None = Field(
        default=None, description="resource URI of the stored run's summary (backtests)"
    )


def _answer(job: JobView) -> JobAnswer:
    error = None if job.error is None else str(data_fields(job.error))
    marked = job if error is None else job.model_copy(update={"error": error})
    report = None if job.result_id is None else f"stockyard://backtests/{job.result_id}"
    return JobAnswer(job=marked, report=report)


def _register_research(server: MCPServer, box: Toolbox) -> None:
    """The strategy catalog, backtest and walk-forward jobs."""

    @server.tool(annotations=READ)
    async def list_strategies() -> list[StrategyInfo]:
        """Every strategy a bot or a backtest can run, with its parameters."""
        return strategy_catalog()

    @server.tool(annotations=RESEARCH)
    async def run_backtest(
        ctx: Context,
        *,
        strategy: Strategy,
        symbols: Symbols,
        start: date | None = None,
        end: date | None = None,
        timeframe: Annotated[str | None, Field(max_length=16)] = None,
        params: dict[str, Scalar] | None = None,
        cash: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = Decimal(100_000),
        source: Source = "auto",
        seed: Seed = 0,
    ) -> JobAnswer:
        """Start a backtest job (auto: local store, S3, Alpaca; synthetic if asked); see get_job."""
        try:
            spec = BacktestSpec(
                strategy=strategy,
                symbols=[s.upper() for s in symbols],
                start=start,
                end=end,
                timeframe=timeframe,
                params=params or {},
                cash=cash,
                source=source,
                seed=seed,
            )
        except ValidationError as exc:
            raise invalid(exc) from None
        return _answer(await box.call(ctx, lambda b: b.backtest(spec)))

    @server.tool(annotations=RESEARCH)
    async def run_walkforward(
        ctx: Context,
        *,
        strategy: Strategy,
        symbols: Symbols,
        space: Annotated[dict[str, str], Field(description='e.g. {"fast": "5:50:5"}')],
        train: Annotated[str, Field(max_length=16, description="bars (10000) or time (30d)")],
        test: Annotated[str, Field(max_length=16, description="bars (2500) or time (7d)")],
        objective: str = "sharpe",
        start: date | None = None,
        end: date | None = None,
        timeframe: Annotated[str | None, Field(max_length=16)] = None,
        source: Source = "auto",
        seed: Seed = 0,
    ) -> JobAnswer:
        """Start a walk-forward job: search each train part, trade the next test part."""
        try:
            spec = WalkForwardSpec(
                strategy=strategy,
                symbols=[s.upper() for s in symbols],
                space=space,
                train=train,
                test=test,
                objective=objective,
                start=start,
                end=end,
                timeframe=timeframe,
                source=source,
                seed=seed,
            )
        except ValidationError as exc:
            raise invalid(exc) from None
        return _answer(await box.call(ctx, lambda b: b.walkforward(spec)))


def _register_jobs(server: MCPServer, box: Toolbox) -> None:
    """Monte Carlo jobs, a job's state, the system's health."""

    @server.tool(annotations=RESEARCH)
    async def run_montecarlo(
        ctx: Context,
        run_id: Annotated[str, Field(pattern=r"^[0-9a-f]{6,64}$", description="a stored run")],
        method: Literal["trades", "permutation", "blocks"] = "trades",
        paths: Annotated[int, Field(ge=10, le=100_000)] = 1000,
        seed: Seed = 0,
    ) -> JobAnswer:
        """Start a Monte Carlo job over a stored backtest run's trades or returns."""
        try:
            spec = MonteCarloSpec(run_id=run_id, method=method, paths=paths, seed=seed)
        except ValidationError as exc:
            raise invalid(exc) from None
        return _answer(await box.call(ctx, lambda b: b.montecarlo(spec)))

    @server.tool(annotations=READ)
    async def get_job(
        ctx: Context, job_id: Annotated[str, Field(min_length=1, max_length=64)]
    ) -> JobAnswer:
        """A job's state and progress; once done its result (metrics) and report link."""
        return _answer(await box.call(ctx, lambda b: b.job(job_id)))

    @server.tool(annotations=READ)
    async def get_health(ctx: Context) -> dict[str, object]:
        """Every health check's latest result (status, value, time)."""
        return await box.call(ctx, lambda b: b.health())

    @server.tool(annotations=READ)
    async def get_errors(ctx: Context) -> dict[str, object]:
        """Top errors by category, recent errors, circuit breakers, recovery actions."""

        async def work(b: Backend) -> dict[str, object]:
            found = data_fields(await b.errors())
            return found if isinstance(found, dict) else {}

        return await box.call(ctx, work)

    @server.tool(annotations=READ)
    async def get_alerts(
        ctx: Context, limit: Annotated[int, Field(ge=1, le=1000)] = 50
    ) -> list[dict[str, object]]:
        """Alert history, newest first."""

        async def work(b: Backend) -> list[dict[str, object]]:
            return [
                a
                for a in (data_fields(x) for x in await b.alerts(limit=limit))
                if isinstance(a, dict)
            ]

        return await box.call(ctx, work)


def _register_models(server: MCPServer, box: Toolbox) -> None:
    """The ML bots' model registry, read-only."""

    @server.tool(annotations=READ)
    async def list_models(ctx: Context) -> list[ModelView]:
        """The ML bots' stored models: data range, in/out-of-sample metrics, pin, hash."""
        return await box.call(ctx, lambda b: b.models())

    @server.tool(annotations=READ)
    async def get_model(
        ctx: Context,
        model_id: Annotated[
            str,
            Field(
                pattern=r"^[a-z0-9][a-z0-9_.-]{0,127}$",
                description="a model id from list_models, or a name (its promoted model)",
            ),
        ],
    ) -> ModelDetailView:
        """One stored model with its top feature importances, parameters and libraries."""
        return await box.call(ctx, lambda b: b.model(model_id))


def register_system(server: MCPServer, box: Toolbox) -> None:
    """Add the research, system and model tools to ``server``."""
    _register_research(server, box)
    _register_jobs(server, box)
    _register_models(server, box)
