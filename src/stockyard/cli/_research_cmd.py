"""``stockyard sweep``, ``stockyard montecarlo`` and their benchmarks (research path)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from stockyard.backtest import (
    Results,
    backtest,
    backtest_config,
    compute_metrics,
    load_bars,
    load_results,
    monte_carlo,
    parse_params,
    store_montecarlo,
    store_results,
)
from stockyard.backtest.montecarlo import MonteCarloMethod, MonteCarloResult
from stockyard.backtest.report import build_report, write_report
from stockyard.backtest.vector import (
    SWEEP_METRICS,
    Costs,
    SweepResult,
    parse_range,
    run_sma_cross,
    sma_pairs,
    sweep_sma,
)
from stockyard.bench import run_montecarlo_benchmark, run_sweep_benchmark
from stockyard.cli._bench_cmd import _show
from stockyard.cli._context import fail, parse_moment, print_json, progress_bar, state_of
from stockyard.core import Timeframe
from stockyard.data import DataImportError, ParquetStore, WriteResult, import_file
from stockyard.resilience import StockyardError
from stockyard.store import UnknownRunError, open_database
from stockyard.strategy import create_strategy

__all__ = ["register"]

_METHODS = ", ".join(m.value for m in MonteCarloMethod)


class _Collect:
    """Where ``import_file`` writes a user's file: kept in memory, nothing on disk."""

    def __init__(self) -> None:
        self.table: pa.Table | None = None

    def write(self, symbol: str, timeframe: Timeframe, table: pa.Table) -> WriteResult:
        self.table = table
        return WriteResult(rows_written=table.num_rows, rows_deduplicated=0)


def _load(
    ctx: typer.Context,
    *,
    symbol: str,
    timeframe: Timeframe,
    start: str | None,
    end: str | None,
    data: Path | None,
) -> pa.Table:
    first = parse_moment(start, name="start") if start else None
    last = parse_moment(end, name="end", end=True) if end else None
    if first and last and last <= first:
        fail("--end must not be before --start")
    if data is not None:
        sink = _Collect()
        try:
            import_file(data, symbol=symbol, timeframe=timeframe, store=sink)
        except DataImportError as exc:
            fail(exc.message)
        if sink.table is None:
            fail(f"--data: {data} holds no bars")
        table = sink.table
        ts = table.column("timestamp")
        if first is not None:
            table = table.filter(pc.greater_equal(ts, pa.scalar(first, ts.type)))
        if last is not None:
            ts = table.column("timestamp")
            table = table.filter(pc.less(ts, pa.scalar(last, ts.type)))
    else:
        settings = state_of(ctx).settings()
        root = settings.data.dir if settings.data.dir is not None else settings.home / "data"
        lo = first or datetime(1970, 1, 1, tzinfo=UTC)
        hi = last or datetime(2100, 1, 1, tzinfo=UTC)
        got = ParquetStore(root).get_bars([symbol], timeframe, lo, hi)
        if symbol not in got:
            fail(
                f"no {timeframe} bars of {symbol} in {root} for that range; "
                "try: stockyard data generate, or --data FILE"
            )
        table = got[symbol]
    if table.num_rows < 3:
        fail(f"only {table.num_rows} bars of {symbol} in that range")
    return table


def _costs(fee_per_order: float, fee_per_share: float, fee_bps: float, slippage: float) -> Costs:
    try:
        return Costs(
            slippage_bps=slippage,
            fee_per_order=fee_per_order,
            fee_per_share=fee_per_share,
            fee_bps=fee_bps,
        )
    except ValueError as exc:
        fail(str(exc))


def _windows(params: list[str]) -> tuple[list[int], list[int]]:
    ranges: dict[str, list[int]] = {}
    for item in params:
        name, sep, spec = item.partition("=")
        if not sep or name.strip() not in ("fast", "slow"):
            fail(f"--param {item!r}: use fast=START:STOP:STEP and slow=START:STOP:STEP")
        try:
            ranges[name.strip()] = parse_range(spec)
        except ValueError as exc:
            fail(f"--param {name.strip()}: {exc}")
    return ranges.get("fast", [10]), ranges.get("slow", [30])


def _sweep_one(
    bars: pa.Table,
    *,
    symbol: str,
    pairs: tuple[np.ndarray, np.ndarray],
    qty: float,
    cash: float,
    costs: Costs,
    timeframe: str,
    metric: str,
    on_progress: Callable[[int, int], None],
) -> tuple[Results, SweepResult, dict[str, object]]:
    """One symbol's sweep, its best pair run again in full, and its JSON summary."""
    result = sweep_sma(
        bars, symbol=symbol, fast=pairs[0], slow=pairs[1], qty=qty, cash=cash, costs=costs,
        on_progress=on_progress,
    )  # fmt: skip
    best = result.best(metric)
    run = run_sma_cross(
        bars, symbol=symbol, fast=int(result.fast[best]), slow=int(result.slow[best]), qty=qty,
        cash=cash, costs=costs, timeframe=timeframe,
    )  # fmt: skip
    summary: dict[str, object] = {
        "symbol": symbol,
        "bars": result.bars,
        "combinations": len(result),
        "orders": result.total_orders,
        "best": result.rows()[best],
        "metrics": compute_metrics(run).to_dict(),
        "rows": result.rows(),
    }
    return run, result, summary


def _sweep_exports(
    best_runs: list[tuple[Results, SweepResult]],
    *,
    names: list[str],
    metric: str,
    out: Path | None,
    report: Path | None,
) -> None:
    """The first symbol's best run as results JSON (``out``) and HTML report (``report``)."""
    run, result = best_runs[0]
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(run.to_json(extra={"metrics": compute_metrics(run).to_dict()}))
    if report is not None:
        document = build_report(
            title=f"sma_cross sweep: {', '.join(names)}", results=run, sweep=result,
            sweep_metric=metric,
        )  # fmt: skip
        write_report(report, document)


def _show_sweep(best_runs: list[tuple[Results, SweepResult]], metric: str) -> None:
    columns = ("fast", "slow", "num_trades", "total_return", "sharpe", "max_drawdown")
    for _run, result in best_runs:
        best_row = result.rows()[result.best(metric)]
        table = Table(title=f"sma_cross sweep on {result.symbol} (best by {metric})")
        for column in columns:
            table.add_column(column, justify="right")
        table.add_row(*(_cell(best_row[c]) for c in columns))
        Console().print(table)
        typer.echo(f"{len(result):,} pairs, {result.total_orders:,} orders, {result.bars:,} bars")


def sweep(  # a command: its options checked one after another
    ctx: typer.Context,
    param: list[str] = typer.Option(
        [], "--param", help="fast=5:50:5 and slow=20:200:10 (stop included) or a,b,c."
    ),
    symbols: str = typer.Option(..., help="Comma-separated; each is swept on its own."),
    start: str | None = typer.Option(None, help="First day (YYYY-MM-DD) or ISO datetime."),
    end: str | None = typer.Option(None, help="Last day, included, or ISO datetime (excluded)."),
    timeframe: str = typer.Option("1Min", help="Bar timeframe in the store (or of --data)."),
    data: Path | None = typer.Option(None, help="A CSV or Parquet file of bars instead."),
    qty: float = typer.Option(100.0, help="Shares bought on each entry."),
    cash: float = typer.Option(100_000.0, help="Starting cash."),
    fee_per_order: float = typer.Option(0.0, help="Fee per fill ($)."),
    fee_per_share: float = typer.Option(0.0, help="Fee per share ($)."),
    fee_bps: float = typer.Option(0.0, help="Fee in basis points of notional."),
    slippage_bps: float = typer.Option(0.0, help="Slippage against the trader (bps)."),
    metric: str = typer.Option("sharpe", help=f"Best pair by: {', '.join(SWEEP_METRICS)}."),
    results_out: Path | None = typer.Option(
        None, "--results", help="Write the best pair's full results (JSON) here."
    ),
    report: Path | None = typer.Option(None, help="Write an HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sweep sma_cross over (fast, slow) pairs on the vectorised path (fills at next open)."""
    if metric not in SWEEP_METRICS:
        fail(f"--metric: use one of {', '.join(SWEEP_METRICS)}")
    names = [s.strip() for s in symbols.split(",") if s.strip()]
    if not names:
        fail("--symbols: give at least one symbol")
    if data is not None and len(names) != 1:
        fail("--data holds one symbol's bars: give exactly one --symbols")
    try:
        frame = Timeframe.parse(timeframe)
    except ValueError as exc:
        fail(str(exc))
    fast_values, slow_values = _windows(param)
    try:
        fast, slow = sma_pairs(fast_values, slow_values)
    except ValueError as exc:
        fail(str(exc))
    costs = _costs(fee_per_order, fee_per_share, fee_bps, slippage_bps)
    if not (qty > 0 and cash > 0):
        fail("--qty and --cash must be > 0")
    out: list[dict[str, object]] = []
    best_runs: list[tuple[Results, SweepResult]] = []
    with progress_bar() as progress:
        for symbol in names:
            bars = _load(ctx, symbol=symbol, timeframe=frame, start=start, end=end, data=data)
            task = progress.add_task(f"sweep {symbol}", total=len(fast))
            advance = _advancer(progress, task)
            run, result, summary = _sweep_one(
                bars, symbol=symbol, pairs=(fast, slow), qty=qty, cash=cash, costs=costs,
                timeframe=str(frame), metric=metric, on_progress=advance,
            )  # fmt: skip
            best_runs.append((run, result))
            out.append(summary)
    _sweep_exports(best_runs, names=names, metric=metric, out=results_out, report=report)
    if as_json:
        print_json({"metric": metric, "costs": costs.to_dict(), "symbols": out})
        return
    _show_sweep(best_runs, metric)
    if report is not None:
        typer.echo(f"report: {report}")


def _advancer(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    def advance(done: int, _total: int) -> None:
        progress.update(task, completed=done)

    return advance


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _backtested(
    ctx: typer.Context,
    *,
    strategy: str,
    symbols: str | None,
    window: tuple[str | None, str | None],
    timeframe: str | None,
    data: Path | None,
    params: list[str],
    cash: str | None,
    source: str,
    seed: int,
) -> tuple[Results, str]:
    """Backtest ``strategy`` on the event engine and store it as ``backtest`` does."""
    start, end = window
    settings = state_of(ctx).settings()
    try:
        bars = load_bars(
            data=data,
            symbols=[s.strip().upper() for s in (symbols or "").split(",") if s.strip()],
            timeframe=Timeframe.parse(timeframe) if timeframe else None,
            start=parse_moment(start, name="start") if start else None,
            end=parse_moment(end, name="end", end=True) if end else None,
            store_root=settings.data.dir or settings.home / "data",
            source=source,
            seed=seed,
            settings=settings,
        )
        bot = create_strategy(strategy, symbols=bars.names, params=parse_params(params))
        config = backtest_config(settings, cash=None if cash is None else Decimal(cash), seed=seed)
    except DataImportError as exc:
        fail(exc.message)
    except InvalidOperation:
        fail(f"--cash must be an amount, got {cash!r}")
    except (StockyardError, ValueError) as exc:
        fail(str(exc))
    with progress_bar() as progress:
        task = progress.add_task("backtest", total=bars.bars)
        results = backtest(
            bars, [bot], config, progress=lambda done: progress.update(task, completed=done)
        )
    with open_database(settings) as database:
        run_id = store_results(database, results, compute_metrics(results))
    return results, run_id


def _stored(ctx: typer.Context, run_id: str) -> Results:
    try:
        with open_database(state_of(ctx).settings()) as database:
            return load_results(database, run_id)
    except UnknownRunError:
        fail(f"--run: no stored backtest {run_id!r} (see: stockyard backtest ls)")
    except ValueError as exc:
        fail(f"--run: {run_id}: {exc}")


def _mc_runs(
    results: Results,
    *,
    methods: list[str],
    paths: int,
    seed: int,
    block_length: float,
    max_delay: int,
    max_slippage_bps: float,
    ruin: float,
) -> list[MonteCarloResult]:
    """One Monte Carlo run per method, with a progress bar; a bad option exits with one line."""
    runs: list[MonteCarloResult] = []
    with progress_bar() as progress:
        task = progress.add_task("monte carlo", total=len(methods))
        for name in methods:
            try:
                runs.append(
                    monte_carlo(
                        results,
                        method=name,
                        paths=paths,
                        seed=seed,
                        block_length=block_length,
                        max_delay=max_delay,
                        max_slippage_bps=max_slippage_bps,
                        ruin_level=ruin,
                    )
                )
            except ValueError as exc:
                fail(str(exc))
            progress.advance(task)
    return runs


def _show_montecarlo(runs: list[MonteCarloResult], *, title: str) -> None:
    table = Table(title=title)
    for column in (
        "method",
        "P(loss)",
        "P(ruin)",
        "final p5",
        "final p50",
        "final p95",
        "maxDD p5",
    ):
        table.add_column(column, justify="right")
    for run in runs:
        p5, p50, p95 = np.percentile(run.final_equity, [5, 50, 95]).tolist()
        table.add_row(
            run.method,
            f"{run.prob_loss:.1%}",
            f"{run.prob_ruin:.1%}",
            f"{p5:,.0f}",
            f"{p50:,.0f}",
            f"{p95:,.0f}",
            f"{float(np.percentile(run.max_drawdown, 5)):.1%}",
        )
    Console().print(table)


def montecarlo(  # a command: its options checked one after another
    ctx: typer.Context,
    results_file: Path | None = typer.Option(None, "--results", help="A results JSON file."),
    run_id: str | None = typer.Option(None, "--run", help="A stored backtest's id (backtest ls)."),
    strategy: str | None = typer.Option(None, help="Backtest this strategy first."),
    symbols: str | None = typer.Option(None, help="With --strategy: comma-separated."),
    start: str | None = typer.Option(None, help="With --strategy: first day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="With --strategy: last day, included."),
    timeframe: str | None = typer.Option(None, help="With --strategy: 1Min (default), ..."),
    data: Path | None = typer.Option(None, help="With --strategy: a CSV or Parquet of bars."),
    param: list[str] = typer.Option([], help="With --strategy: name=value (repeat)."),
    cash: str | None = typer.Option(
        None, help="With --strategy: starting cash (backtest.cash: 100000)."
    ),
    source: str = typer.Option("auto", help="With --strategy: as for backtest."),
    method: list[str] = typer.Option(
        ["trades", "permutation", "blocks", "delay"],
        "--method",
        help=f"Repeatable: {_METHODS}.",
    ),
    paths: int = typer.Option(10_000, min=1, max=1_000_000, help="Simulated paths."),
    seed: int = typer.Option(0, help="Same seed, same numbers (and the backtest's seed)."),
    block_length: float = typer.Option(20.0, help="Mean block length in days (blocks)."),
    max_delay: int = typer.Option(3, min=0, help="Most bars an entry is delayed (delay)."),
    max_slippage_bps: float = typer.Option(10.0, help="Most slippage per fill (delay)."),
    ruin: float = typer.Option(0.5, help="Ruin: equity touching this fraction of the start."),
    report: Path | None = typer.Option(None, help="Write an HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Monte Carlo of a run (a results file, a stored backtest, or a backtest run first):
    trade bootstrap, permutation, block bootstrap, delay."""
    given = [name for name, v in (("--results", results_file), ("--run", run_id),
             ("--strategy", strategy)) if v is not None]  # fmt: skip
    if len(given) != 1:
        fail(f"give one of --results FILE, --run ID or --strategy NAME (got {given or 'none'})")
    source_name: str
    if results_file is not None:
        try:
            results = Results.from_json(results_file.read_bytes())
        except FileNotFoundError:
            fail(f"--results: {results_file} does not exist")
        except ValueError as exc:
            fail(f"--results: {results_file}: {exc}")
        source_name = str(results_file)
    elif run_id is not None:
        results, source_name = _stored(ctx, run_id), run_id
    else:
        assert strategy is not None  # one of the three was given
        results, source_name = _backtested(
            ctx, strategy=strategy, symbols=symbols, window=(start, end), timeframe=timeframe,
            data=data, params=param, cash=cash, source=source, seed=seed,
        )  # fmt: skip
    runs = _mc_runs(
        results, methods=method, paths=paths, seed=seed, block_length=block_length,
        max_delay=max_delay, max_slippage_bps=max_slippage_bps, ruin=ruin,
    )  # fmt: skip
    if report is not None:
        write_report(
            report,
            build_report(
                title=f"Monte Carlo: {results.strategy}", results=results, montecarlo=runs
            ),
        )
    with open_database(state_of(ctx).settings()) as database:
        mc_id, document = store_montecarlo(
            database,
            runs,
            source=source_name,
            strategy=results.strategy,
            symbols=[p.symbol for p in results.prices],
        )
    if as_json:
        print_json({"id": mc_id, **document})
        return
    _show_montecarlo(
        runs, title=f"Monte Carlo of {results.strategy} ({paths:,} paths, seed {seed})"
    )
    typer.echo(f"stored as {mc_id}")
    if report is not None:
        typer.echo(f"report: {report}")


def bench_sweep(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    bars: int = typer.Option(1_000_000, min=1000, help="One-minute bars."),
    combinations: int = typer.Option(1000, min=1, help="(fast, slow) pairs."),
) -> None:
    """sma_cross over 1,000 (fast, slow) pairs × 1,000,000 bars: orders per second."""
    _show("sweep", run_sweep_benchmark(bars=bars, combinations=combinations), as_json)


def bench_montecarlo(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    paths: int = typer.Option(10_000, min=1, help="Paths."),
    steps: int = typer.Option(2_520, min=2, help="Days per path."),
) -> None:
    """Block bootstrap of 10,000 paths × 2,520 days: wall time."""
    _show("montecarlo", run_montecarlo_benchmark(paths=paths, steps=steps), as_json)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``sweep``, ``montecarlo``, ``bench sweep`` and ``bench montecarlo``."""
    app.command("sweep")(sweep)
    app.command("montecarlo")(montecarlo)
    bench_app.command("sweep")(bench_sweep)
    bench_app.command("montecarlo")(bench_montecarlo)
