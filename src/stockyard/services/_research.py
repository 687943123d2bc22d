"""The Research service: backtests, walk-forwards and Monte Carlo runs as background jobs
with progress (on the event stream, topic ``jobs``) and cancellation; stored runs.

A job runs in a worker thread. Progress is reported as the engine reports it (every
65,536 bars for a backtest, every window for a walk-forward); a cancel takes effect at the
next report. Results are stored as ``stockyard backtest`` stores them: in the state database
(``backtest.store_results``), under an id derived from their content.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from stockyard.backtest import (
    BacktestConfig,
    BarData,
    InlinePool,
    Results,
    backtest,
    backtest_config,
    compare,
    compute_metrics,
    load_bars,
    load_results,
    monte_carlo,
    parse_entry,
    store_results,
    walk_forward,
)
from stockyard.config import Settings
from stockyard.core import Timeframe
from stockyard.execution import CryptoTierFee, ExchangeConfig
from stockyard.obs import get_logger
from stockyard.resilience import StockyardError
from stockyard.services._access import Auditor, Caller
from stockyard.services._errors import ServiceError
from stockyard.services._events import EventHub, jsonable
from stockyard.store import Database, ResearchKind, SqlResearchStore, UnknownRunError
from stockyard.strategy import create_strategy

__all__ = [
    "BacktestSpec",
    "CompareSpec",
    "JobState",
    "JobView",
    "MonteCarloSpec",
    "ResearchService",
    "RunCompareView",
    "RunSummary",
    "WalkForwardSpec",
]

_log = get_logger("backtest")
Scalar = bool | int | float | str
Source = Literal["auto", "local", "s3", "alpaca", "synthetic"]
AdjustmentName = Literal["all", "raw", "split", "dividend"]
Symbols = Annotated[
    list[Annotated[str, Field(pattern=r"^[A-Z0-9./]{1,32}$")]], Field(min_length=1, max_length=20)
]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BacktestSpec(_Spec):
    """One backtest: a strategy over symbols' bars from ``source`` (``auto``: the local
    store, then S3, then Alpaca; ``synthetic`` only when asked for), Alpaca's stock bars
    adjusted as ``adjustment`` says."""

    strategy: Annotated[str, Field(min_length=1, max_length=200)]
    symbols: Symbols
    start: date | None = None
    end: date | None = None
    timeframe: str | None = Field(default=None, max_length=16)
    params: dict[str, Scalar] = Field(default_factory=dict)
    cash: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=20)] = Decimal(100_000)
    source: Source = "auto"
    adjustment: AdjustmentName = "all"
    seed: int = Field(default=0, ge=0, le=2**31)


class WalkForwardSpec(_Spec):
    """A walk-forward optimisation: ``space`` maps parameters to specs (``"5:50:5"``)."""

    strategy: Annotated[str, Field(min_length=1, max_length=200)]
    symbols: Symbols
    space: dict[str, str] = Field(min_length=1)
    train: str = Field(max_length=16)
    test: str = Field(max_length=16)
    objective: str = "sharpe"
    start: date | None = None
    end: date | None = None
    timeframe: str | None = Field(default=None, max_length=16)
    source: Source = "auto"
    adjustment: AdjustmentName = "all"
    seed: int = Field(default=0, ge=0, le=2**31)


class CompareSpec(_Spec):
    """Several strategies or parameter sets on the same bars: ``entries`` read
    ``sma_cross`` or ``sma_cross:fast=5,slow=20``."""

    entries: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=300)]],
        Field(min_length=1, max_length=20),
    ]
    symbols: Symbols
    start: date | None = None
    end: date | None = None
    timeframe: str | None = Field(default=None, max_length=16)
    source: Source = "auto"
    adjustment: AdjustmentName = "all"
    seed: int = Field(default=0, ge=0, le=2**31)


class MonteCarloSpec(_Spec):
    """Monte Carlo over a stored run's trades or returns."""

    run_id: Annotated[str, Field(pattern=r"^[0-9a-f]{6,64}$")]
    method: str = "trades"
    paths: int = Field(default=1000, ge=10, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**31)


class JobView(BaseModel):
    """A job as it stands."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    state: JobState
    progress: float
    message: str
    params: dict[str, object]
    result_id: str | None = None
    result: dict[str, object] | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RunSummary(BaseModel):
    """A stored backtest run."""

    model_config = ConfigDict(frozen=True)

    id: str
    strategy: str | None
    symbols: list[str]
    bars: int | None
    final_equity: float | None
    total_return: float | None
    num_trades: int | None
    stored_at: datetime
    data: str | None = None
    synthetic: bool | None = None


class RunCompareView(BaseModel):
    """Stored runs side by side: each one's strategy, symbols and metrics (``figures``:
    the metric names shown, in order, each with its unit)."""

    model_config = ConfigDict(frozen=True)

    figures: list[tuple[str, str, str]]
    runs: list[dict[str, object]]


# The metrics a comparison shows: name, label, unit ("$", "%" of a fraction, "" plain).
COMPARED_METRICS: tuple[tuple[str, str, str], ...] = (
    ("final_equity", "Final equity", "$"),
    ("total_return", "Total return", "%"),
    ("cagr", "CAGR", "%"),
    ("annual_volatility", "Annual volatility", "%"),
    ("sharpe", "Sharpe (annualised)", ""),
    ("sortino", "Sortino (annualised)", ""),
    ("max_drawdown", "Max drawdown", "%"),
    ("max_drawdown_days", "Max drawdown length", "days"),
    ("num_trades", "Trades", "trades"),
    ("win_rate", "Win rate", "%"),
    ("profit_factor", "Profit factor", ""),
    ("total_fees", "Fees", "$"),
)

S = TypeVar("S", bound=BaseModel)


class _CanceledError(Exception):
    pass


class _Job:
    def __init__(self, kind: str, params: dict[str, object]) -> None:
        self.view = JobView(
            id=uuid.uuid4().hex[:12],
            kind=kind,
            state=JobState.QUEUED,
            progress=0.0,
            message="queued",
            params=params,
            created_at=datetime.now(UTC),
        )
        self.cancel = threading.Event()


Progress = Callable[[float, str], None]


class ResearchService:
    """Jobs in ``workers`` threads; runs stored in ``database``; bars from ``data_dir`` (and,
    with ``settings``, the source chain and the ``[backtest]`` costs they name)."""

    def __init__(
        self,
        *,
        database: Database,
        data_dir: Path,
        auditor: Auditor,
        events: EventHub | None = None,
        workers: int = 1,
        settings: Settings | None = None,
    ) -> None:
        self.database = database
        self.data_dir = data_dir
        self.settings = settings
        self.auditor = auditor
        self.events = events
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="research")

    def close(self) -> None:
        """Cancel what is queued or running and wait for the workers."""
        for job in list(self._jobs.values()):
            job.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- jobs ------------------------------------------------------------------------------

    def jobs(self) -> list[JobView]:
        """Every job of this process, newest first."""
        with self._lock:
            return sorted((j.view for j in self._jobs.values()), key=lambda v: v.created_at)[::-1]

    def job(self, job_id: str) -> JobView:
        """One job; 404 when unknown."""
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None:
            raise ServiceError("unknown_job", f"no job {job_id!r}", status=404)
        return found.view

    async def cancel(self, job_id: str, *, caller: Caller) -> JobView:
        """Ask a job to stop (at its next progress report)."""

        async def work() -> JobView:
            view = self.job(job_id)
            if view.state in (JobState.QUEUED, JobState.RUNNING):
                self._jobs[job_id].cancel.set()
                if view.state is JobState.QUEUED:
                    self._update(job_id, state=JobState.CANCELED, message="canceled")
            return self.job(job_id)

        return await self.auditor.call(caller, "jobs.cancel", {"job_id": job_id}, work)

    async def backtest(self, spec: BacktestSpec, *, caller: Caller) -> JobView:
        """Start a backtest job."""
        return await self._launch("backtest", spec, caller, self._run_backtest)

    async def walkforward(self, spec: WalkForwardSpec, *, caller: Caller) -> JobView:
        """Start a walk-forward job."""
        return await self._launch("walkforward", spec, caller, self._run_walkforward)

    async def compare(self, spec: CompareSpec, *, caller: Caller) -> JobView:
        """Start a comparison job."""
        return await self._launch("compare", spec, caller, self._run_compare)

    async def montecarlo(self, spec: MonteCarloSpec, *, caller: Caller) -> JobView:
        """Start a Monte Carlo job over a stored run."""
        self.run(spec.run_id)  # 404 now rather than a failed job later
        return await self._launch("montecarlo", spec, caller, self._run_montecarlo)

    async def launch(
        self,
        kind: str,
        spec: S,
        caller: Caller,
        run: Callable[[S, Progress], tuple[str | None, dict[str, object]]],
    ) -> JobView:
        """Run ``run(spec, progress)`` as a job of ``kind`` in the workers (another
        service's long task: a data fetch), audited as ``jobs.<kind>``; ``run`` answers
        ``(stored id or None, result)``."""
        return await self._launch(kind, spec, caller, run)

    async def _launch(
        self,
        kind: str,
        spec: S,
        caller: Caller,
        run: Callable[[S, Progress], tuple[str | None, dict[str, object]]],
    ) -> JobView:
        async def work() -> JobView:
            job = _Job(kind, spec.model_dump(mode="json"))
            with self._lock:
                self._jobs[job.view.id] = job
            queued = job.view
            self._publish(queued)  # before the worker can report "running"
            self._pool.submit(self._execute, job, spec, run)
            return queued

        return await self.auditor.call(caller, f"jobs.{kind}", spec.model_dump(mode="json"), work)

    def _execute(
        self,
        job: _Job,
        spec: S,
        run: Callable[[S, Progress], tuple[str | None, dict[str, object]]],
    ) -> None:
        job_id = job.view.id
        if job.cancel.is_set():
            return
        self._update(job_id, state=JobState.RUNNING, message="running", started_at=_now())

        def progress(fraction: float, message: str) -> None:
            if job.cancel.is_set():
                raise _CanceledError
            self._update(job_id, progress=round(min(max(fraction, 0.0), 1.0), 4), message=message)

        try:
            result_id, result = run(spec, progress)
        except _CanceledError:
            self._update(job_id, state=JobState.CANCELED, message="canceled", finished_at=_now())
            return
        except (StockyardError, ValueError) as exc:
            self._update(
                job_id, state=JobState.FAILED, message="failed", error=str(exc), finished_at=_now()
            )
            return
        except Exception as exc:  # a failed job is reported on the job, the service goes on
            _log.error("research job failed", job=job_id, error=repr(exc), exc_info=exc)
            self._update(
                job_id, state=JobState.FAILED, message="failed", error=repr(exc), finished_at=_now()
            )
            return
        self._update(
            job_id,
            state=JobState.DONE,
            progress=1.0,
            message="done",
            result_id=result_id,
            result=result,
            finished_at=_now(),
        )

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs[job_id]
            job.view = job.view.model_copy(update=changes)
            view = job.view
        self._publish(view)

    def _publish(self, view: JobView) -> None:
        if self.events is not None:
            data = view.model_dump(mode="json", exclude={"result"})
            self.events.publish("jobs", data, subject=view.id)

    # -- the work (in a worker thread) -----------------------------------------------------

    def _bars(self, spec: BacktestSpec | WalkForwardSpec | CompareSpec) -> BarData:
        """The bars a spec names: its symbols, days (both included), timeframe and source."""
        start, end = spec.start, spec.end
        return load_bars(
            data=None,
            symbols=list(spec.symbols),
            timeframe=Timeframe.parse(spec.timeframe) if spec.timeframe else None,
            start=None if start is None else datetime.combine(start, time(), UTC),
            end=None if end is None else datetime.combine(end, time.max, UTC),
            store_root=self.data_dir,
            source=spec.source,
            seed=spec.seed,
            settings=self.settings,
            adjustment=spec.adjustment,
        )

    def _config(self, *, seed: int, cash: Decimal | None = None) -> BacktestConfig:
        """The ``[backtest]`` costs of the settings (Alpaca's crypto fees by default)."""
        if self.settings is None:
            return BacktestConfig(
                cash=cash if cash is not None else Decimal(100_000),
                seed=seed,
                exchange=ExchangeConfig(crypto_fees=CryptoTierFee()),
            )
        return backtest_config(self.settings, cash=cash, seed=seed)

    def _run_backtest(
        self, spec: BacktestSpec, progress: Progress
    ) -> tuple[str, dict[str, object]]:
        progress(0.0, "loading bars")
        bars = self._bars(spec)
        bot = create_strategy(spec.strategy, symbols=bars.names, params=dict(spec.params))
        total = max(1, bars.bars)
        progress(0.0, f"replaying {bars.bars:,} bars")
        results = backtest(
            bars,
            [bot],
            self._config(cash=spec.cash, seed=spec.seed),
            progress=lambda done: progress(done / total, f"{done:,} of {total:,} bars"),
        )
        metrics = compute_metrics(results)
        run_id = store_results(self.database, results, metrics)
        return run_id, {"metrics": jsonable(metrics.to_dict()), "trades": len(results.trades)}

    def _run_walkforward(
        self, spec: WalkForwardSpec, progress: Progress
    ) -> tuple[None, dict[str, object]]:
        progress(0.0, "loading bars")
        bars = self._bars(spec)
        found = walk_forward(
            bars,
            strategy=spec.strategy,
            space=dict(spec.space),
            train=spec.train,
            test=spec.test,
            objective=spec.objective,
            seed=spec.seed,
            config=self._config(seed=spec.seed),
            pool=InlinePool(),
            progress=lambda done, total: progress(
                done / max(1, total), f"window {done} of {total}"
            ),
        )
        result = jsonable(found.to_dict())
        return None, result if isinstance(result, dict) else {"result": result}

    def _run_compare(self, spec: CompareSpec, progress: Progress) -> tuple[None, dict[str, object]]:
        progress(0.0, "loading bars")
        entries = [parse_entry(text) for text in spec.entries]
        bars = self._bars(spec)
        progress(0.0, f"{len(entries)} backtests on {bars.bars:,} bars")
        found = compare(bars, entries, config=self._config(seed=spec.seed), pool=InlinePool())
        result = jsonable(found.to_dict())
        return None, result if isinstance(result, dict) else {"result": result}

    def _run_montecarlo(
        self, spec: MonteCarloSpec, progress: Progress
    ) -> tuple[None, dict[str, object]]:
        progress(0.0, f"simulating {spec.paths:,} paths")
        results = self._results(spec.run_id)
        found = monte_carlo(results, method=spec.method, paths=spec.paths, seed=spec.seed)
        summary = jsonable(found.summary())
        return None, summary if isinstance(summary, dict) else {"summary": summary}

    # -- stored runs -----------------------------------------------------------------------

    def _results(self, run_id: str) -> Results:
        try:
            return load_results(self.database, run_id)
        except UnknownRunError:
            raise ServiceError("unknown_run", f"no stored run {run_id!r}", status=404) from None

    def runs(self) -> list[RunSummary]:
        """Stored backtest runs, oldest first."""
        out: list[RunSummary] = []
        for run in reversed(SqlResearchStore(self.database).runs(kind=ResearchKind.BACKTEST)):
            summary = run.summary
            out.append(
                RunSummary(
                    id=run.id,
                    strategy=run.strategy,
                    symbols=list(run.symbols),
                    bars=_int(summary.get("bars")),
                    final_equity=_float(summary.get("final_equity")),
                    total_return=_float(summary.get("total_return")),
                    num_trades=_int(summary.get("num_trades")),
                    stored_at=run.stored_at,
                    data=_str(summary.get("data")),
                    synthetic=_bool(summary.get("synthetic")),
                )
            )
        return out

    def compare_runs(self, run_ids: list[str]) -> RunCompareView:
        """Stored runs' metrics side by side (2 to 8 runs; 404 for one not stored)."""
        ids = list(dict.fromkeys(run_ids))
        if not 2 <= len(ids) <= 8:
            raise ServiceError("bad_selection", "select 2 to 8 stored runs", status=400)
        runs: list[dict[str, object]] = []
        for run_id in ids:
            document = self.run(run_id)
            metrics = document.get("metrics")
            figures = metrics if isinstance(metrics, dict) else {}
            runs.append(
                {
                    "id": run_id,
                    "strategy": document.get("strategy"),
                    "symbols": [p.get("symbol") for p in _dicts(document.get("prices"))],
                    "params": document.get("params") or {},
                    "metrics": {k: figures.get(k) for k, _l, _u in COMPARED_METRICS},
                }
            )
        return RunCompareView(figures=list(COMPARED_METRICS), runs=runs)

    def run(self, run_id: str) -> dict[str, object]:
        """A stored run's whole results document (metrics, trades, orders, equity)."""
        try:
            document = SqlResearchStore(self.database).document(run_id, kind=ResearchKind.BACKTEST)
        except UnknownRunError:
            raise ServiceError("unknown_run", f"no stored run {run_id!r}", status=404) from None
        doc: dict[str, object] = orjson.loads(document)
        return doc


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _now() -> datetime:
    return datetime.now(UTC)
