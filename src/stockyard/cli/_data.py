"""``stockyard data …``: generate, import, list and show bars in the local store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stockyard.cli._context import fail, parse_moment, print_json, progress_bar, state_of
from stockyard.core import AssetClass, Timeframe, table_to_frame
from stockyard.data import (
    PLANTED_STRENGTH,
    SAMPLE_END,
    SAMPLE_SEED,
    SAMPLE_START,
    SAMPLE_SYMBOLS,
    DataImportError,
    MixedBarsError,
    ParquetStore,
    import_file,
    resample,
    write_synthetic,
)

__all__ = ["SAMPLE_END", "SAMPLE_START", "SAMPLE_SYMBOLS", "data_app"]

data_app = typer.Typer(
    help="Historical bars: generate synthetic data, import files, list and show what is stored.",
    no_args_is_help=True,
)


def _store_root(ctx: typer.Context) -> Path:
    settings = state_of(ctx).settings()
    return settings.data.dir if settings.data.dir is not None else settings.home / "data"


def _store(ctx: typer.Context) -> ParquetStore:
    return ParquetStore(_store_root(ctx))


def _timeframe(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except ValueError as exc:
        fail(str(exc))


@data_app.command("generate")
def generate(
    ctx: typer.Context,
    symbols: str | None = typer.Option(None, help="Comma-separated, e.g. AAPL,MSFT,BTC/USD."),
    start: str | None = typer.Option(None, help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="Last day, included (YYYY-MM-DD)."),
    timeframe: str = typer.Option("1Min", help="1Min, 5Min, 1Hour, 1Day, ..."),
    seed: int = typer.Option(SAMPLE_SEED, help="Same seed, same bars."),
    planted_signal: bool = typer.Option(
        False, "--planted-signal", help="Add a learnable drift (docs/ml.md) for ML bots."
    ),
    strength: float = typer.Option(
        PLANTED_STRENGTH, help="With --planted-signal: drift sd in units of bar volatility."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write synthetic bars to the store; with no options, the sample set the examples use."""
    names = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else SAMPLE_SYMBOLS
    first = (
        parse_moment(start, name="start")
        if start
        else parse_moment(str(SAMPLE_START), name="start")
    )
    last = (
        parse_moment(end, name="end", end=True)
        if end
        else parse_moment(str(SAMPLE_END), name="end", end=True)
    )
    if last <= first:
        fail("--end must not be before --start")
    frame = _timeframe(timeframe)
    store = _store(ctx)
    with progress_bar() as progress:
        task = progress.add_task("generating", total=len(names))
        try:
            written = write_synthetic(
                store,
                symbols=names,
                start=first,
                end=last,
                timeframe=frame,
                seed=seed,
                on_symbol=lambda _symbol, _rows: progress.advance(task),
                planted_signal=strength if planted_signal else 0.0,
            )
        except MixedBarsError as exc:
            fail(exc.message)
        except ValueError as exc:
            fail(str(exc))
    results = [{"symbol": symbol, "rows": rows} for symbol, rows in written.items()]
    summary = {"root": store.root, "timeframe": str(frame), "seed": seed, "symbols": results}
    if planted_signal:
        summary["planted_signal"] = strength
    if as_json:
        print_json(summary)
        return
    for item in results:
        typer.echo(f"{item['symbol']:<10} {item['rows']:>9,} bars ({frame})")
    typer.echo(f"stored under {store.root}")


@data_app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV or Parquet file of bars."),
    symbol: str = typer.Option(..., help="Symbol the bars are for."),
    timeframe: str = typer.Option(..., help="Timeframe of the bars (1Min, 1Day, ...)."),
    tz: str = typer.Option("UTC", help="Zone of timestamps written without an offset."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Import a file: every row is checked first; one bad row and nothing is written."""
    frame = _timeframe(timeframe)
    try:
        result = import_file(file, symbol=symbol, timeframe=frame, store=_store(ctx), tz=tz)
    except DataImportError as exc:
        fail(exc.message)
    except MixedBarsError as exc:
        fail(exc.message)
    summary = {
        "symbol": result.symbol,
        "timeframe": str(result.timeframe),
        "rows": result.rows,
        "rows_written": result.rows_written,
        "rows_deduplicated": result.rows_deduplicated,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
    }
    if as_json:
        print_json(summary)
    else:
        typer.echo(
            f"imported {result.rows:,} {frame} bars of {symbol} "
            f"({result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC), "
            f"{result.rows_deduplicated:,} replaced"
        )


@data_app.command("ls")
def ls(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What the store holds: symbols, timeframes, ranges, rows and bytes."""
    store = _store(ctx)
    entries = store.catalog()
    rows = [
        {
            "symbol": e.symbol,
            "asset_class": e.asset_class.value,
            "timeframe": str(e.timeframe),
            "start": e.start.isoformat(),
            "end": e.end.isoformat(),
            "rows": e.rows,
            "bytes": e.bytes,
        }
        for e in entries
    ]
    if as_json:
        print_json({"root": store.root, "entries": rows})
        return
    if not rows:
        typer.echo(f"no bars under {store.root}; try: stockyard data generate")
        return
    table = Table(title=store.root)
    for column in ("symbol", "timeframe", "start", "end", "rows", "bytes"):
        table.add_column(column, justify="right" if column in ("rows", "bytes") else "left")
    for e in entries:
        table.add_row(
            e.symbol,
            str(e.timeframe),
            f"{e.start:%Y-%m-%d %H:%M}",
            f"{e.end:%Y-%m-%d %H:%M}",
            f"{e.rows:,}",
            f"{e.bytes:,}",
        )
    Console().print(table)


@data_app.command("show")
def show(
    ctx: typer.Context,
    symbol: str = typer.Argument(..., help="Symbol, e.g. AAPL or BTC/USD."),
    timeframe: str = typer.Option(
        "1Min", help="Timeframe; coarser than what is stored is resampled from 1Min bars."
    ),
    start: str | None = typer.Option(None, help="From (date or ISO datetime; default: first)."),
    end: str | None = typer.Option(None, help="To (a date is included; default: last)."),
    limit: int = typer.Option(20, min=0, help="At most this many bars from the start; 0: all."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Print stored bars of one symbol."""
    frame = _timeframe(timeframe)
    store = _store(ctx)
    first = parse_moment(start, name="start") if start else datetime(1970, 1, 1, tzinfo=UTC)
    last = parse_moment(end, name="end", end=True) if end else datetime(2200, 1, 1, tzinfo=UTC)
    table = store.get_bars([symbol], frame, first, last).get(symbol)
    if table is None and frame != Timeframe.MINUTE:
        minutes = store.get_bars([symbol], Timeframe.MINUTE, first, last).get(symbol)
        if minutes is not None:  # stocks: regular sessions only, as Alpaca builds its bars
            crypto = AssetClass.of_symbol(symbol) is AssetClass.CRYPTO
            table = resample(minutes, frame, calendar=None if crypto else "XNYS")
            typer.echo(f"({frame} bars resampled from stored 1Min bars)", err=True)
    if table is None or table.num_rows == 0:
        fail(f"no {frame} bars of {symbol} in that range; see: stockyard data ls")
    if limit:
        table = table.slice(0, limit)
    bars = table_to_frame(table).reset_index()
    if as_json:
        bars["timestamp"] = bars["timestamp"].map(lambda t: t.isoformat())
        records = bars.astype(object).where(bars.notna(), None).to_dict(orient="records")
        print_json({"symbol": symbol, "timeframe": str(frame), "bars": records})
    elif as_csv:
        typer.echo(bars.to_csv(index=False), nl=False)
    else:
        typer.echo(bars.to_string(index=False))
