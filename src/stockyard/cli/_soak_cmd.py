"""``stockyard bench soak``: the demo bots on an accelerated sandbox for minutes."""

from __future__ import annotations

from pathlib import Path

import typer

from stockyard.bench import run_soak_benchmark
from stockyard.cli._bench_cmd import _show
from stockyard.cli._context import fail
from stockyard.cli._trading import builtin_bots

__all__ = ["register"]

# Over 10 minutes (docs/benchmarks.md): what a soak must show.
_MAX_GROWTH_PCT = 5.0


def bench_soak(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    minutes: float | None = typer.Option(
        None, "--minutes", min=0.0, help="How long (default 10; 0.1 is six seconds)."
    ),
    seconds: float | None = typer.Option(None, "--seconds", min=1.0, help="Or in seconds."),
    rate: float = typer.Option(1000.0, "--rate", min=1.0, help="Market-data messages/s."),
    workdir: Path | None = typer.Option(None, "--dir", help="Where the session's files go."),
) -> None:
    """Demo bots at 1,000 msg/s for minutes: orders, fills, memory growth, lost messages.

    An accelerated sandbox session; at the end the node's positions are compared with the
    sandbox's (docs/benchmarks.md)."""
    if minutes is not None and seconds is not None:
        fail("give --minutes or --seconds, not both")
    length = seconds if seconds is not None else 60.0 * (10.0 if minutes is None else minutes)
    if length < 1.0:
        fail("the soak needs at least a second")
    figures = run_soak_benchmark(seconds=length, bots=builtin_bots, rate=rate, workdir=workdir)
    growth = figures["memory_growth_pct"]
    figures["targets_met"] = (
        isinstance(growth, float)
        and growth <= _MAX_GROWTH_PCT
        and figures["lost"] == 0
        and figures["positions_equal"] is True
    )
    _show("soak", figures, as_json)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench soak`` to ``bench_app`` (no command)."""
    bench_app.command("soak")(bench_soak)
