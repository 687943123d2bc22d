"""``stockyard ml …``: train models from stored bars, list, show, promote and remove them;
``stockyard bench ml``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import typer

from stockyard.backtest import BarData, load_bars
from stockyard.bench._ml import run_ml_benchmark
from stockyard.cli._context import fail, parse_moment, print_json, progress_bar, state_of
from stockyard.core import Timeframe
from stockyard.data import DataImportError
from stockyard.strategy.ml import (
    LABEL_KINDS,
    MODEL_KINDS,
    Columns,
    ModelError,
    ModelRecord,
    ModelRegistry,
    TrainSpec,
    train_from_columns,
)

__all__ = ["register"]


def _registry(ctx: typer.Context) -> ModelRegistry:
    settings = state_of(ctx).settings()
    return ModelRegistry.under(settings.data.dir or settings.home / "data")


def _columns(data: BarData) -> dict[str, Columns]:
    return {s.symbol: (s.ts, s.open, s.high, s.low, s.close, s.volume) for s in data.symbols}


def _ns(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="seconds")


def _record_json(record: ModelRecord) -> dict[str, Any]:
    meta = dict(record.meta)
    meta["promoted"] = record.promoted
    meta["data_start"] = _ns(int(meta["data_start_ns"]))
    meta["data_end"] = _ns(int(meta["data_end_ns"]))
    return meta


def _show(record: ModelRecord) -> None:
    meta = record.meta
    metrics = meta.get("metrics", {})
    typer.echo(f"{record.model_id}{'  (promoted)' if record.promoted else ''}")
    typer.echo(f"  kind      {meta['kind']}  label {meta['label']}  format {meta['format']}")
    typer.echo(f"  symbols   {', '.join(meta['symbols'])}")
    typer.echo(f"  data      {_ns(meta['data_start_ns'])} .. {_ns(meta['data_end_ns'])}")
    typer.echo(f"  rows      train {meta['train_rows']:,}  test {meta['test_rows']:,}")
    for key, value in metrics.items():
        typer.echo(f"  {key:<24} {value:.4f}")
    typer.echo(f"  gate      {'passed' if meta['passed_gate'] else 'failed'}: {meta['gate']}")
    importance = meta.get("importance", {})
    if importance:
        typer.echo("  importance (gain, or |coefficient| on scaled features)")
        for feature, value in list(importance.items())[:8]:
            typer.echo(f"    {feature:<22} {value:,.4g}")
    typer.echo(f"  sha256    {meta['sha256']}")


def train(
    ctx: typer.Context,
    symbols: str = typer.Option(..., help="Comma-separated, e.g. AAPL,SPY."),
    start: str = typer.Option(..., help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., help="Last day, included (YYYY-MM-DD)."),
    timeframe: str = typer.Option("1Min", help="Bars to train on."),
    source: str = typer.Option("local", help="local (the store), auto or synthetic."),
    kind: str = typer.Option("lgbm_classifier", help=", ".join(MODEL_KINDS)),
    label: str = typer.Option("direction", help=", ".join(LABEL_KINDS[:2])),
    horizon: int = typer.Option(15, min=1, help="Bars the label looks ahead."),
    dead_band: float = typer.Option(0.0005, min=0.0, help="|return| with no direction."),
    test_rows: int = typer.Option(1000, min=50, help="Held-out rows per symbol."),
    embargo: int = typer.Option(15, min=0, help="Rows dropped after the purge."),
    rounds: int = typer.Option(100, min=1, help="LightGBM boosting rounds."),
    reference: str = typer.Option("SPY", help="Cross-asset reference, if among symbols."),
    seed: int = typer.Option(0, help="Model seed."),
    name: str = typer.Option("ml_direction", help="Registry name (bots run its promoted)."),
    promote: bool = typer.Option(False, "--promote", help="Promote it if it passes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Train a model on stored bars (purged, embargoed test tail) and store it."""
    if kind not in MODEL_KINDS or label not in LABEL_KINDS[:2]:
        fail(f"--kind must be one of {', '.join(MODEL_KINDS)}; --label direction or "
             "triple_barrier")  # fmt: skip
    settings = state_of(ctx).settings()
    names = [s.strip() for s in symbols.split(",") if s.strip()]
    try:
        data = load_bars(
            data=None,
            symbols=names,
            timeframe=Timeframe.parse(timeframe),
            start=parse_moment(start, name="start"),
            end=parse_moment(end, name="end", end=True),
            store_root=settings.data.dir or settings.home / "data",
            source=source,
        )
    except DataImportError as exc:
        fail(exc.message)
    except ValueError as exc:
        fail(str(exc))
    spec = TrainSpec(
        kind=kind,
        label=label,
        horizon=horizon,
        dead_band=dead_band,
        train=10**9,
        test=test_rows,
        embargo=embargo,
        rounds=rounds,
        seed=seed,
    )
    bar = progress_bar()
    task = bar.add_task("training", total=1)
    with bar:
        result = train_from_columns(_columns(data), spec, reference=reference)
        bar.advance(task)
    if not result.payload:
        fail(f"training refused: {result.reason}", code=1)
    params = dataclasses.asdict(spec)
    registry = _registry(ctx)
    try:
        record = registry.save(
            result, name=name, params=params, created_at=datetime.now(UTC).isoformat()
        )
        if promote and result.passed:
            record = registry.promote(record.model_id)
    except ModelError as exc:
        fail(str(exc))
    if as_json:
        print_json(_record_json(record))
        return
    _show(record)
    if promote and not result.passed:
        typer.echo("not promoted: it failed its out-of-sample gate")


def ls(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List stored models: id, kind, out-of-sample hit rate, gate, promoted."""
    registry = _registry(ctx)
    try:
        records = registry.list()
    except ModelError as exc:
        fail(str(exc))
    if as_json:
        print_json([_record_json(r) for r in records])
        return
    if not records:
        typer.echo(f"no models under {registry.root}; try: stockyard ml train")
        return
    for r in records:
        hit = r.meta.get("metrics", {}).get("out_of_sample_hit_rate")
        shown = "-" if hit is None else f"{hit:.3f}"
        gate = "pass" if r.meta["passed_gate"] else "fail"
        mark = "*" if r.promoted else " "
        typer.echo(f"{mark} {r.model_id:<40} {r.meta['kind']:<16} oos {shown}  gate {gate}")


def show(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model id, or a name (its promoted model)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a model's pedigree: data, features, label, metrics, gate, hash, libraries."""
    try:
        record = _registry(ctx).show(model)
    except ModelError as exc:
        fail(str(exc))
    if as_json:
        print_json(_record_json(record))
        return
    _show(record)


def promote_cmd(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Pin a model as the one bots of its name run (its hash is checked first)."""
    registry = _registry(ctx)
    try:
        registry.load(model)  # refuses a damaged file before it is pinned
        record = registry.promote(model)
    except ModelError as exc:
        fail(str(exc))
    if as_json:
        print_json(_record_json(record))
        return
    typer.echo(f"promoted {record.model_id} for {record.name}")


def rm(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model id."),
    force: bool = typer.Option(False, "--force", help="Also remove a promoted model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remove a stored model (a promoted one only with --force)."""
    try:
        record = _registry(ctx).remove(model, force=force)
    except ModelError as exc:
        fail(str(exc))
    if as_json:
        print_json({"removed": record.model_id})
        return
    typer.echo(f"removed {record.model_id}")


def bench_ml(
    rows: int = typer.Option(1_000_000, help="Training rows for train_s."),
    days: int = typer.Option(365, help="Calendar days of 1-minute bars for the backtest."),
    train_stride: int = typer.Option(1, min=1, help="The backtest's bot fits every n-th row."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """ML: train_s (1M rows × 50 features), inference p99 ms per bar, a year's backtest."""
    figures = run_ml_benchmark(rows=rows, days=days, train_stride=train_stride)
    if as_json:
        print_json(figures)
        return
    for key, value in figures.items():
        typer.echo(f"{key:<22} {value}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``ml`` (train, ls, show, promote, rm) and ``bench ml``."""
    ml_app = typer.Typer(
        help="Machine-learned bots' models: train from stored bars, list, show, promote, remove.",
        no_args_is_help=True,
    )
    app.add_typer(ml_app, name="ml")
    ml_app.command("train")(train)
    ml_app.command("ls")(ls)
    ml_app.command("show")(show)
    ml_app.command("promote")(promote_cmd)
    ml_app.command("rm")(rm)
    bench_app.command("ml")(bench_ml)
