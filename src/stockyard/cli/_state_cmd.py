"""``stockyard state export|import``: the trading state as one JSON document; ``bench store``."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy import exc as sql_errors

from stockyard.bench import run_store_benchmark
from stockyard.cli._bench_cmd import _show as show_bench
from stockyard.cli._context import fail, print_json, state_of
from stockyard.store import (
    STATE_TABLES,
    Database,
    StateFormatError,
    StateNotEmptyError,
    dump_state,
    export_state,
    import_state,
    load_state,
    open_database,
)

__all__ = ["register"]

_URL_HELP = "Database URL (default: database.url of the settings, a SQLite file under home)."


def _open(ctx: typer.Context, url: str | None) -> Database:
    source = url if url is not None else state_of(ctx).settings()
    try:
        return open_database(source)
    except (sql_errors.OperationalError, sql_errors.ArgumentError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"cannot open the state database ({type(exc).__name__}: {reason})")


def _progress(total: int) -> tuple[Progress, TaskID]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tables"),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    return progress, progress.add_task("state", total=total)


def _summary(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, str(count))
    return table


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_state_cmd(
    ctx: typer.Context,
    out: str = typer.Option("-", "--out", "-o", help="FILE.json, or - for stdout."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    url: str | None = typer.Option(None, "--url", help=_URL_HELP),
) -> None:
    """Write the whole state as one versioned JSON document (read from one snapshot)."""
    database = _open(ctx, url)
    progress, task = _progress(len(STATE_TABLES))
    try:
        with progress:
            document = export_state(database, progress=lambda name, _n: progress.advance(task))
    finally:
        database.dispose()
    text = dump_state(document)
    if out == "-":
        sys.stdout.write(text)
        return
    try:
        _write_atomically(Path(out), text)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    tables = document["tables"]
    assert isinstance(tables, dict)
    counts = {name: len(rows) for name, rows in tables.items()}
    if as_json:
        print_json({"path": str(Path(out).resolve()), "rows": counts})
    else:
        Console().print(_summary(f"state exported to {out}", counts))


def import_state_cmd(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="A document from `state export`, or - for stdin."),
    replace: bool = typer.Option(
        False, "--replace", help="Delete the state the database holds first."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    url: str | None = typer.Option(None, "--url", help=_URL_HELP),
) -> None:
    """Restore a state document; refuses a database that holds state unless --replace."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")
    try:
        document = load_state(text)
    except StateFormatError as exc:
        fail(f"{file}: {exc}")
    database = _open(ctx, url)
    progress, task = _progress(len(STATE_TABLES))
    try:
        with progress:
            counts = import_state(
                database,
                document,
                replace=replace,
                progress=lambda name, _n: progress.advance(task),
            )
    except (StateFormatError, StateNotEmptyError) as exc:
        fail(f"{file}: {exc}")
    finally:
        database.dispose()
    if as_json:
        print_json({"imported": counts, "replaced": replace})
    else:
        Console().print(_summary(f"state imported from {file}", counts))


def bench_store(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    orders: int = typer.Option(2000, min=100, help="Orders journaled (intent, 2 events, fill)."),
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: a fresh SQLite file in a temp dir)."
    ),
    full_sync: bool = typer.Option(
        False, "--full-sync", help="SQLite synchronous=FULL (fsync every commit)."
    ),
) -> None:
    """Per-call µs of the order journal (record_intent, record_event, record_fill)."""
    figures = run_store_benchmark(
        url, orders=orders, sqlite_synchronous="FULL" if full_sync else "NORMAL"
    )
    show_bench("store", figures, as_json)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the ``state`` command group to ``app`` and ``store`` to ``bench_app``."""
    state = typer.Typer(
        help="Snapshot and restore the trading state (runs, orders, fills, ...).",
        no_args_is_help=True,
    )
    state.command("export")(export_state_cmd)
    state.command("import")(import_state_cmd)
    app.add_typer(state, name="state")
    bench_app.command("store")(bench_store)
