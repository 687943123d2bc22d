"""``stockyard backtest`` (and ``backtest ls``), ``walkforward``, ``compare``, and
``stockyard bench backtest|walkforward``. The lead wires them with ``register(app, bench_app)``.

Runs are stored in the state database (``stockyard.backtest.store_results`` and friends);
the id is a hash of the results, so the same data and seed give the same id and the same
bytes. ``--out`` and ``--report`` (and ``backtest export``) write a stored run's JSON and HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from stockyard.backtest import (
    OBJECTIVES,
    BacktestConfig,
    BarData,
    WalkForwardResult,
    backtest_config,
    compare,
    export_run,
    live_vs_backtest,
    live_vs_section,
    load_bars,
    load_session,
    make_pool,
    parse_entry,
    parse_params,
    store_results,
    store_walkforward,
    walk_forward,
)
from stockyard.backtest import backtest as run_backtest
from stockyard.backtest.metrics import compute_metrics
from stockyard.backtest.report import (
    ReportSection,
    build_report,
    equity_figure,
    ml_section,
    write_report,
)
from stockyard.bench import run_backtest_benchmark, run_walkforward_benchmark
from stockyard.cli._bench_cmd import _show
from stockyard.cli._context import (
    fail,
    parse_duration,
    parse_moment,
    print_json,
    progress_bar,
    state_of,
)
from stockyard.core import Timeframe
from stockyard.data import DataImportError
from stockyard.resilience import StockyardError
from stockyard.store import (
    Database,
    ResearchKind,
    SqlResearchStore,
    SqlRunStore,
    UnknownRunError,
    open_database,
)
from stockyard.strategy import create_strategy

__all__ = ["register"]

_T = TypeVar("_T")


def _moment(text: str | None, name: str, *, end: bool = False) -> datetime | None:
    return None if text is None else parse_moment(text, name=name, end=end)


def _config(
    ctx: typer.Context,
    *,
    cash: str | None,
    fees: str | None,
    slippage: str | None,
    calendar: str | None = None,
    margin: int | None = None,
    seed: int | None,
) -> BacktestConfig:
    """The run's config: ``[backtest]``, ``[exchange]`` and ``[risk]`` of the settings, each
    option given overriding its key."""
    try:
        amount = None if cash is None else Decimal(cash)
        return backtest_config(
            state_of(ctx).settings(),
            cash=amount,
            fees=fees,
            slippage=slippage,
            calendar=calendar,
            margin=margin,
            seed=seed,
        )
    except InvalidOperation:
        fail(f"--cash must be an amount, got {cash!r}")
    except ValueError as exc:
        fail(str(exc))


def _bars(
    ctx: typer.Context,
    *,
    data: Path | None,
    symbols: str | None,
    start: str | None,
    end: str | None,
    timeframe: str | None,
    source: str,
    seed: int,
) -> BarData:
    settings = state_of(ctx).settings()
    names = [s.strip().upper() for s in (symbols or "").split(",") if s.strip()]
    try:
        frame = Timeframe.parse(timeframe) if timeframe else None
        return load_bars(
            data=data,
            symbols=names,
            timeframe=frame,
            start=_moment(start, "start"),
            end=_moment(end, "end", end=True),
            store_root=settings.data.dir or settings.home / "data",
            source=source,
            seed=seed,
        )
    except DataImportError as exc:
        fail(exc.message)
    except ValueError as exc:
        fail(str(exc))


def _stored(ctx: typer.Context, run: Callable[[Database], _T]) -> _T:
    """``run`` on the state database (opened, migrated and closed here)."""
    with open_database(state_of(ctx).settings()) as database:
        return run(database)


_LISTED = ("bars", "final_equity", "total_return", "num_trades")


def _export(
    ctx: typer.Context,
    run_id: str,
    *,
    out: Path | None,
    report: Path | None,
    extra: Sequence[ReportSection] = (),
) -> Mapping[str, str]:
    """Write the stored run's JSON (``out``) and HTML (``report``); the paths written."""
    if out is None and report is None:
        return {}
    try:
        return _stored(
            ctx,
            lambda database: export_run(
                database, run_id, json_path=out, html_path=report, extra_sections=extra
            ),
        )
    except UnknownRunError:
        fail(f"no stored run {run_id!r} (see: stockyard backtest ls)")
    except (OSError, ValueError) as exc:
        fail(str(exc))


def _with_progress(total: int, label: str) -> tuple[Progress, Callable[[int], None]]:
    bar = progress_bar()
    task = bar.add_task(label, total=total)
    return bar, lambda done: bar.update(task, completed=done)


def backtest_cmd(
    ctx: typer.Context,
    strategy: str | None = typer.Option(None, help="Built-in name, module:Class or file.py."),
    symbols: str | None = typer.Option(None, help="Comma-separated, e.g. AAPL,MSFT."),
    start: str | None = typer.Option(None, help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="Last day, included."),
    timeframe: str | None = typer.Option(None, help="1Min (default), 5Min, 1Hour, 1Day."),
    data: Path | None = typer.Option(None, help="CSV or Parquet: timestamp,open,...,volume."),
    param: list[str] = typer.Option([], help="Strategy parameter name=value (repeat)."),
    cash: str | None = typer.Option(None, help="Starting cash (backtest.cash: 100000)."),
    fees: str | None = typer.Option(
        None, help="zero, sec, per-share:R[:MIN[:MAX]], ... (backtest.fees: zero)."
    ),
    slippage: str | None = typer.Option(
        None, help="none, bps:N, volume:IMPACT:MAX (backtest.slippage: none)."
    ),
    calendar: str | None = typer.Option(
        None, help="always (data as it comes) or nyse (backtest.calendar: always)."
    ),
    margin: int | None = typer.Option(
        None, help="Margin multiplier: 1 (cash account), 2, 4 (exchange.multiplier: 2)."
    ),
    source: str = typer.Option("auto", help="auto, local or synthetic bars."),
    seed: int | None = typer.Option(None, help="Seeds ids (and synthetic bars; backtest.seed: 0)."),
    out: Path | None = typer.Option(None, help="Write the results JSON here too."),
    report: Path | None = typer.Option(None, help="Write an HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run one backtest and store it (see ``backtest ls``)."""
    if ctx.invoked_subcommand is not None:
        return
    if strategy is None:
        fail("--strategy is required (e.g. --strategy sma_cross)")
    config = _config(
        ctx,
        cash=cash,
        fees=fees,
        slippage=slippage,
        calendar=calendar,
        margin=margin,
        seed=seed,
    )
    seed = config.seed
    bars = _bars(
        ctx,
        data=data,
        symbols=symbols,
        start=start,
        end=end,
        timeframe=timeframe,
        source=source,
        seed=seed,
    )
    try:
        bot = create_strategy(strategy, symbols=bars.names, params=parse_params(param))
    except (StockyardError, ValueError) as exc:
        fail(str(exc))
    bar, tick = _with_progress(bars.bars, "backtest")
    with bar:
        results = run_backtest(bars, [bot], config, progress=tick)
    metrics = compute_metrics(results)
    run_id = _stored(ctx, lambda database: store_results(database, results, metrics))
    extra = [s for s in (ml_section([bot]),) if s is not None]
    written = _export(ctx, run_id, out=out, report=report, extra=extra)
    shown: dict[str, Any] = {
        "id": run_id,
        **({"path": written["json"]} if "json" in written else {}),
        "metrics": metrics.to_dict(),
        "trades": [t.to_dict() for t in results.trades],
    }
    if as_json:
        print_json(shown)
        return
    table = Table(title=f"{bot!r} on {', '.join(bars.names)} ({bars.bars:,} bars)")
    table.add_column("metric", style="cyan")
    table.add_column("value", justify="right")
    for key, value in metrics.to_dict().items():
        table.add_row(key, "-" if value is None else f"{value:,.6g}")
    Console().print(table)
    typer.echo(f"stored as {run_id}" + "".join(f", {p}" for p in written.values()))


def backtest_ls(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored backtest runs."""
    stored = _stored(
        ctx, lambda database: SqlResearchStore(database).runs(kind=ResearchKind.BACKTEST)
    )
    rows: list[dict[str, Any]] = [
        {
            "id": run.id,
            "strategy": run.strategy,
            "symbols": list(run.symbols),
            **{key: run.summary.get(key) for key in _LISTED},
            "stored_at": run.stored_at.isoformat(),
        }
        for run in stored
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no stored backtests")
        return
    table = Table(title="stored backtests")
    for name in ("id", "strategy", "symbols", "bars", "total_return", "num_trades"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            row["id"],
            str(row["strategy"]),
            ",".join(str(s) for s in row["symbols"]),
            str(row["bars"]),
            "-" if row["total_return"] is None else f"{row['total_return']:.4%}",
            str(row["num_trades"]),
        )
    Console().print(table)


def backtest_export(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="A stored backtest's id (backtest ls)."),
    out: Path | None = typer.Option(None, help="Write its results JSON here."),
    report: Path | None = typer.Option(None, help="Write its HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write a stored run's results JSON and HTML report."""
    if out is None and report is None:
        fail("give --out FILE, --report FILE or both")
    written = _export(ctx, run_id, out=out, report=report)
    if as_json:
        print_json({"id": run_id, **written})
        return
    for kind, path in written.items():
        typer.echo(f"{kind}: {path}")


def _check_search(*, objective: str, direction: str, search: str) -> None:
    """Exit with one line when a walk-forward's search options are not known ones."""
    if objective not in OBJECTIVES:
        fail(f"unknown --objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if direction not in ("auto", "maximize", "minimize"):
        fail(f"--direction must be auto, maximize or minimize, got {direction!r}")
    if search not in ("grid", "optuna"):
        fail(f"--search must be grid or optuna, got {search!r}")


def walkforward_cmd(
    ctx: typer.Context,
    strategy: str = typer.Option(..., help="Built-in name, module:Class or file.py."),
    symbols: str | None = typer.Option(None, help="Comma-separated symbols."),
    start: str | None = typer.Option(None, help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="Last day, included."),
    timeframe: str | None = typer.Option(None, help="1Min (default), 1Day, ..."),
    data: Path | None = typer.Option(None, help="CSV or Parquet of bars."),
    param: list[str] = typer.Option(
        [],
        help="name=5:50:5 or name=0.5:2:0.25 (range, stop included), name=a,b,c "
        "or name=value (repeat).",
    ),
    train: str = typer.Option(
        ..., help="Each train part: bars (2000) or time (30d, 12h, 2w, 90m)."
    ),
    test: str = typer.Option(..., help="Each test part: bars (500) or time (5d)."),
    step: str | None = typer.Option(
        None, help="From one window to the next, like --test (default: --test)."
    ),
    anchored: bool = typer.Option(False, help="Every window trains from the first bar."),
    objective: str = typer.Option("sharpe", help="Metric the search optimises in sample."),
    direction: str = typer.Option(
        "auto", help="auto (minimise volatility, drawdown days, fees), maximize, minimize."
    ),
    search: str = typer.Option("grid", help="grid (every combination) or optuna (TPE)."),
    trials: int = typer.Option(100, help="Optuna trials per window."),
    batch: int = typer.Option(
        8, help="Optuna trials per window per round (part of the seeded answer)."
    ),
    cash: str | None = typer.Option(None, help="Starting cash (backtest.cash: 100000)."),
    fees: str | None = typer.Option(None, help="As for backtest."),
    slippage: str | None = typer.Option(None, help="As for backtest."),
    workers: int | None = typer.Option(None, help="Local processes (default: all cores)."),
    cluster: str | None = typer.Option(None, help="Dask scheduler, tcp://HOST:8786."),
    source: str = typer.Option("auto", help="auto, local or synthetic bars."),
    seed: int | None = typer.Option(
        None, help="Seeds ids, synthetic bars and Optuna's sampler (backtest.seed: 0)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk-forward optimisation: search each train part, trade the next test part."""
    _check_search(objective=objective, direction=direction, search=search)
    config = _config(ctx, cash=cash, fees=fees, slippage=slippage, seed=seed)
    seed = config.seed
    bars = _bars(
        ctx, data=data, symbols=symbols, start=start, end=end, timeframe=timeframe,
        source=source, seed=seed,
    )  # fmt: skip
    space = parse_params_or_fail(param)  # name -> spec; walk_forward parses and checks them
    pool = make_pool(cluster, workers=workers)
    try:
        bar = progress_bar()
        task = bar.add_task(f"walk-forward ({search})", total=1)
        with bar:
            result = walk_forward(
                bars, strategy=strategy, space=space, train=train, test=test, step=step,
                anchored=anchored, objective=objective,
                direction=None if direction == "auto" else direction, search=search,
                trials=trials, batch=batch, seed=seed, config=config, pool=pool,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    except (StockyardError, ValueError) as exc:
        fail(str(exc))
    finally:
        pool.close()
    run_id = _stored(
        ctx,
        lambda database: store_walkforward(database, result, strategy=strategy, symbols=bars.names),
    )
    if as_json:
        typer.echo(
            orjson.dumps(
                {"id": run_id, **result.to_dict()},
                option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_INDENT_2,
            )
        )
        return
    _show_walkforward(result, strategy, list(space))
    typer.echo(f"stored as {run_id}")


def compare_cmd(
    ctx: typer.Context,
    run: list[str] = typer.Option(..., help="NAME or NAME:k=v,k=v (repeat)."),
    symbols: str | None = typer.Option(None, help="Comma-separated symbols."),
    start: str | None = typer.Option(None, help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="Last day, included."),
    timeframe: str | None = typer.Option(None, help="1Min (default), 1Day, ..."),
    data: Path | None = typer.Option(None, help="CSV or Parquet of bars."),
    cash: str | None = typer.Option(None, help="Starting cash (backtest.cash: 100000)."),
    fees: str | None = typer.Option(None, help="As for backtest."),
    slippage: str | None = typer.Option(None, help="As for backtest."),
    source: str = typer.Option("auto", help="auto, local or synthetic bars."),
    seed: int | None = typer.Option(None, help="Seeds ids (and synthetic bars; backtest.seed: 0)."),
    report: Path | None = typer.Option(None, help="Write an HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Several strategies or parameter sets on the same bars: metrics, correlation."""
    config = _config(ctx, cash=cash, fees=fees, slippage=slippage, seed=seed)
    seed = config.seed
    bars = _bars(
        ctx, data=data, symbols=symbols, start=start, end=end, timeframe=timeframe,
        source=source, seed=seed,
    )  # fmt: skip
    try:
        entries = [parse_entry(text) for text in run]
        bar = progress_bar()
        task = bar.add_task("compare", total=len(entries))
        with bar:
            result = compare(bars, entries, config=config)
            bar.update(task, completed=len(entries))
    except (StockyardError, ValueError) as exc:
        fail(str(exc))
    if report is not None:
        sections = [
            ReportSection(f"Equity: {label}", [equity_figure(r)])
            for label, r in zip(result.labels, result.results, strict=True)
        ]
        write_report(report, build_report(title="comparison", extra_sections=sections))
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title="comparison")
    keys = ("total_return", "sharpe", "max_drawdown", "num_trades", "final_equity")
    table.add_column("run")
    for key in keys:
        table.add_column(key, justify="right")
    for label, metrics in zip(result.labels, result.metrics, strict=True):
        values = (metrics.get(k) for k in keys)
        table.add_row(label, *("-" if v is None else f"{v:,.6g}" for v in values))
    Console().print(table)


_SHARED = "measured on a shared machine"


def bench_backtest(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    bars: int = typer.Option(1_000_000, min=1000, help="One-minute bars."),
) -> None:
    """Event engine bars/s: sma_cross, one symbol (docs/backtesting.md)."""
    _show("backtest", {**run_backtest_benchmark(bars=bars), "note": _SHARED}, as_json)


def bench_walkforward(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    combinations: int = typer.Option(200, min=2, help="Parameter sets."),
    bars: int = typer.Option(20_000, min=1000, help="One-minute bars."),
) -> None:
    """Walk-forward speed-up on a 2-worker Dask LocalCluster against 1 worker."""
    _show(
        "walkforward",
        {**run_walkforward_benchmark(combinations=combinations, bars=bars), "note": _SHARED},
        as_json,
    )


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``backtest`` (with ``ls``), ``walkforward``, ``compare`` and two benchmarks."""
    backtest_app = typer.Typer(
        help="Backtest a strategy on the event engine (same bots, risk and orders as live).",
        invoke_without_command=True,
    )
    app.add_typer(backtest_app, name="backtest")

    backtest_app.callback()(backtest_cmd)
    backtest_app.command("ls")(backtest_ls)
    backtest_app.command("export")(backtest_export)
    backtest_app.command("live-vs")(live_vs_cmd)
    app.command("walkforward")(walkforward_cmd)
    app.command("compare")(compare_cmd)
    bench_app.command("backtest")(bench_backtest)
    bench_app.command("walkforward")(bench_walkforward)


def live_vs_cmd(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="A stored paper, live or sandbox run's id."),
    tolerance: str = typer.Option("", help="Match window, e.g. 90s (default: one bar)."),
    timeframe: str = typer.Option("1Min", help="The bars the session traded on."),
    source: str = typer.Option("auto", help="auto, local or synthetic bars."),
    seed: int = typer.Option(0, help="Seeds ids (and synthetic bars: the sandbox's seed)."),
    start: str | None = typer.Option(None, help="Override the session's start (ISO time)."),
    end: str | None = typer.Option(None, help="Override the session's end (ISO time)."),
    strategy: str | None = typer.Option(None, help="For runs that stored no strategy specs."),
    param: list[str] = typer.Option([], help="With --strategy: name=value (repeat)."),
    report: Path | None = typer.Option(None, help="Write an HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Backtest a stored session's strategies over its period and compare trade by trade."""
    settings = state_of(ctx).settings()
    wait = parse_duration(tolerance) if tolerance else None
    with open_database(settings) as database:
        try:
            session = load_session(
                database, run_id, start=_moment(start, "start"), end=_moment(end, "end")
            )
        except UnknownRunError:
            known = ", ".join(r.id for r in SqlRunStore(database).runs(limit=5)) or "none"
            fail(f"no run {run_id!r} in the state database (newest: {known})")
        except ValueError as exc:
            fail(str(exc))
    try:
        frame = Timeframe.parse(timeframe)
        bots = None
        if strategy is not None:
            bots = [create_strategy(strategy, symbols=session.symbols, params=parse_params(param))]
        bars = load_bars(
            data=None,
            symbols=session.symbols,
            timeframe=frame,
            start=session.start - frame.delta,
            end=session.end,
            store_root=settings.data.dir or settings.home / "data",
            source=source,
            seed=seed,
        )
        bar = progress_bar()
        task = bar.add_task("live vs backtest", total=1)
        with bar:
            result = live_vs_backtest(
                session,
                bars,
                strategies=bots,
                tolerance=None if wait is None else timedelta(seconds=wait),
            )
            bar.update(task, completed=1)
    except DataImportError as exc:
        fail(exc.message)
    except (StockyardError, ValueError) as exc:
        fail(str(exc))
    if report is not None:
        write_report(
            report,
            build_report(
                title=f"live vs backtest: {run_id}", extra_sections=[live_vs_section(result)]
            ),
        )
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"live vs backtest of {run_id} ({session.run.mode.value})")
    table.add_column("figure", style="cyan")
    table.add_column("value", justify="right")
    for key, value in result.summary().items():
        shown = (
            "-" if value is None else f"{value:,.6g}" if isinstance(value, float) else str(value)
        )
        table.add_row(key, shown)
    Console().print(table)


def _show_walkforward(result: WalkForwardResult, strategy: str, names: list[str]) -> None:
    how = (
        f"optuna, {result.trials} trials a window, seed {result.seed}"
        if result.search == "optuna"
        else f"grid of {result.combinations} combinations"
    )
    table = Table(
        title=f"walk-forward of {strategy}: {result.direction} {result.objective} ({how})"
    )
    columns = ("window", "train", "test", *names, "in_sample", "out_of_sample")
    for name in columns:
        table.add_column(name, justify="left" if name in ("train", "test") else "right")
    for w, row in zip(result.windows, result.stability(), strict=True):
        train = f"{_when(w.train[0])} ({w.window.train_end - w.window.train_start:,} bars)"
        test = f"{_when(w.test[0])} ({w.window.test_end - w.window.train_end:,} bars)"
        values = {**row, "train": train, "test": test}
        table.add_row(*(_cell(values[k]) for k in columns))
    Console().print(table)
    refused = sum(w.refused for w in result.windows)
    if refused:
        typer.echo(f"trials the strategy refused (pruned, not run): {refused}")
    shown = "-" if result.efficiency is None else f"{result.efficiency:.4g}"
    typer.echo(f"walk-forward efficiency (out of sample / in sample): {shown}")


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else "-"
    return str(value)


def parse_params_or_fail(pairs: list[str]) -> dict[str, str]:
    try:
        return parse_params(pairs)
    except ValueError as exc:
        fail(str(exc))
