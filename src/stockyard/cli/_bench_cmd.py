"""``stockyard bench NAME --json``: the speed and memory targets, measured."""

from __future__ import annotations

import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import typer
from rich.console import Console
from rich.table import Table

from stockyard.bench import run_data_benchmark, run_frozen_benchmark, run_logging_benchmark
from stockyard.cli._context import print_json


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "date": datetime.now(UTC).date().isoformat(),
    }


def _show(name: str, figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json({**figures, "benchmark": name, "machine": _machine()})
        return
    table = Table(title=f"bench {name}")
    table.add_column("figure", style="cyan")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)


def _workdir(given: Path | None) -> Path:
    return given if given is not None else Path(tempfile.mkdtemp(prefix="stockyard-bench-"))


def bench_logging(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    seconds: float = typer.Option(10.0, min=1.0, help="Sustained phase length."),
    calls: int = typer.Option(200_000, min=1000, help="Calls timed one by one."),
    workdir: Path | None = typer.Option(None, "--dir", help="Where the log files go."),
) -> None:
    """Per-call cost (median, p99 µs) and sustained entries/s to disk, lines counted."""
    figures = run_logging_benchmark(directory=_workdir(workdir), calls=calls, seconds=seconds)
    _show("logging", figures, as_json)


def bench_data(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    symbols: int = typer.Option(10, min=1, help="Symbols to generate."),
    days: int = typer.Option(365, min=5, help="Calendar days of 1-minute bars."),
    workdir: Path | None = typer.Option(None, "--dir", help="Where the Parquet store goes."),
) -> None:
    """Parquet write/read rows/s, one symbol-month read, cache lookup and hit rate."""
    figures = run_data_benchmark(root=_workdir(workdir), symbols=symbols, days=days)
    _show("data", figures, as_json)


def bench_frozen(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    calls: int = typer.Option(200_000, min=1000, help="Calls per round (best of 5)."),
) -> None:
    """Frozen values on the order path: generated copy/constructor vs the standard library."""
    _show("frozen", run_frozen_benchmark(calls=calls), as_json)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench logging``, ``bench data`` and ``bench frozen`` to ``bench_app``."""
    bench_app.command("logging")(bench_logging)
    bench_app.command("data")(bench_data)
    bench_app.command("frozen")(bench_frozen)
