"""``stockyard data fetch`` and ``stockyard data sync``: bars from Alpaca / S3 into the store."""

from __future__ import annotations

from datetime import datetime

import typer

from stockyard.cli._context import fail, parse_moment, print_json, progress_bar, state_of
from stockyard.cli._data import _store, _timeframe, data_app
from stockyard.config import ConfigError, Settings
from stockyard.core import Timeframe
from stockyard.data import (
    AlpacaSource,
    HistoricalSource,
    ParquetStore,
    SourceChain,
    SyncedFile,
    make_chain,
    make_s3_store,
    sync_stores,
)
from stockyard.resilience import ErrorCategory, StockyardError, classify, retry_policy

__all__ = ["fetch", "register", "sync"]

SOURCES = ("alpaca", "s3", "chain")
RUNTIME_FAILURE = 1


def register(data_app: typer.Typer) -> None:
    """Add ``fetch`` and ``sync`` to the ``stockyard data`` app."""
    data_app.command("fetch")(fetch)
    data_app.command("sync")(sync)


def register_group(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the whole ``data`` group (local commands, ``fetch`` and ``sync``) to ``app``."""
    if not any(c.name == "fetch" for c in data_app.registered_commands):
        register(data_app)
    app.add_typer(data_app, name="data")


def _symbols(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        fail("--symbols: give at least one symbol, e.g. AAPL,MSFT,BTC/USD")
    return names


def _s3_store(settings: Settings) -> ParquetStore:
    if not settings.data.s3.configured:
        fail("S3 is not configured: set data.s3.bucket (STOCKYARD_DATA__S3__BUCKET)")
    try:
        return make_s3_store(settings.data.s3)
    except Exception as exc:
        fail(f"cannot open S3: {classify(exc).message}", RUNTIME_FAILURE)


def _source(settings: Settings, name: str, adjustment: str = "all") -> HistoricalSource:
    try:
        if name == "alpaca":
            return AlpacaSource.from_settings(settings.alpaca, adjustment=adjustment)
        if name == "s3":
            return _s3_store(settings)
        return make_chain(settings, adjustment=adjustment)
    except ConfigError as exc:
        fail(str(exc))
    except StockyardError as exc:
        fail(exc.message)


def _fetch_one(
    source: HistoricalSource,
    store: ParquetStore,
    symbol: str,
    *,
    timeframe: Timeframe,
    span: tuple[datetime, datetime],
) -> tuple[int, str]:
    """Fetch one symbol into ``store``; return the rows and the source that served them."""
    if isinstance(source, SourceChain):  # it falls back and keeps remote answers itself
        result = source.fetch([symbol], timeframe, *span)
        table = result.tables.get(symbol)
        return (table.num_rows if table is not None else 0), result.origin.get(symbol, "-")
    retry = retry_policy(ErrorCategory.API, component="data_pipeline")
    table = retry(source.get_bars, [symbol], timeframe, *span).get(symbol)
    if table is None:
        return 0, source.name
    store.write(symbol, timeframe, table)
    return table.num_rows, source.name


def fetch(
    ctx: typer.Context,
    symbols: str = typer.Option(..., help="Comma-separated, e.g. AAPL,MSFT,BTC/USD."),
    start: str = typer.Option(..., help="From (YYYY-MM-DD or ISO datetime; naive is UTC)."),
    end: str = typer.Option(..., help="To (a date is included)."),
    source: str = typer.Option("chain", help="alpaca, s3, or chain (local → S3 → Alpaca)."),
    timeframe: str = typer.Option("1Min", help="1Min, 5Min, 1Hour, 1Day, ..."),
    adjustment: str = typer.Option(
        "all", help="Alpaca stock bars: all (split- and dividend-adjusted), raw, split, dividend."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fetch bars and keep them in the local store; prints rows per symbol."""
    if source not in SOURCES:
        fail(f"--source: {source!r} is not one of {', '.join(SOURCES)}")
    if adjustment not in ("all", "raw", "split", "dividend"):
        fail(f"--adjustment: {adjustment!r} is not one of all, raw, split, dividend")
    names = _symbols(symbols) or []
    frame = _timeframe(timeframe)
    span = (parse_moment(start, name="start"), parse_moment(end, name="end", end=True))
    if span[1] <= span[0]:
        fail("--end must not be before --start")
    settings = state_of(ctx).start_logging(console=False)
    origin = _source(settings, source, adjustment)
    store = _store(ctx)
    results: list[dict[str, object]] = []
    with progress_bar() as progress:
        task = progress.add_task(f"fetching from {source}", total=len(names))
        for symbol in names:
            progress.update(task, description=f"{symbol} from {source}")
            item: dict[str, object] = {"symbol": symbol, "rows": 0, "source": None, "error": None}
            try:
                item["rows"], item["source"] = _fetch_one(
                    origin, store, symbol, timeframe=frame, span=span
                )
            except Exception as exc:
                item["error"] = classify(exc).message
            results.append(item)
            progress.advance(task)
    _report_fetch(results, frame=frame, span=span, source=source, as_json=as_json)
    if any(item["error"] for item in results):
        raise typer.Exit(RUNTIME_FAILURE)


def _report_fetch(
    results: list[dict[str, object]],
    *,
    frame: Timeframe,
    span: tuple[datetime, datetime],
    source: str,
    as_json: bool,
) -> None:
    if as_json:
        print_json(
            {
                "source": source,
                "timeframe": str(frame),
                "start": span[0].isoformat(),
                "end": span[1].isoformat(),
                "symbols": results,
            }
        )
        return
    for item in results:
        if item["error"]:
            typer.echo(f"{item['symbol']:<10} failed: {item['error']}", err=True)
        else:
            rows = int(str(item["rows"]))
            typer.echo(f"{item['symbol']:<10} {rows:>9,} bars ({frame}) from {item['source']}")


def sync(
    ctx: typer.Context,
    to: str | None = typer.Option(None, "--to", help="Copy local partitions to: s3."),
    from_: str | None = typer.Option(None, "--from", help="Copy partitions from s3 to local."),
    symbols: str | None = typer.Option(None, help="Only these symbols (comma-separated)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Copy partitions between the local store and S3; identical files are skipped."""
    if (to is None) == (from_ is None):
        fail("give exactly one of --to s3 or --from s3")
    remote_name = to if to is not None else from_
    if remote_name != "s3":
        fail(
            f"{'--to' if to is not None else '--from'}: only 's3' is supported, got {remote_name!r}"
        )
    names = _symbols(symbols)
    settings = state_of(ctx).start_logging(console=False)
    remote, local = _s3_store(settings), _store(ctx)
    source, target = (local, remote) if to is not None else (remote, local)
    with progress_bar() as progress:
        task = progress.add_task(f"{source.name} → {target.name}", total=None)

        def advance(synced: SyncedFile) -> None:
            progress.update(task, description=f"{synced.symbol} {synced.year} {synced.action}")
            progress.advance(task)

        try:
            report = sync_stores(source, target, symbols=names, on_file=advance)
        except Exception as exc:
            fail(f"sync failed: {classify(exc).message}", RUNTIME_FAILURE)
    summary = report.to_dict()
    if as_json:
        print_json(summary)
        return
    for item in report.files:
        typer.echo(f"{item.symbol:<10} {item.timeframe!s:<6} {item.year}  {item.action}")
    typer.echo(
        f"{summary['copied']} copied, {summary['merged']} merged, {summary['skipped']} skipped "
        f"({source.root} → {target.root})"
    )
