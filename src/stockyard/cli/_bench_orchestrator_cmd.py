"""``stockyard bench orchestrator``."""

from __future__ import annotations

from pathlib import Path

import typer

from stockyard.bench._orchestrator import run_orchestrator_benchmark
from stockyard.cli._bench_cmd import _show as show_bench

__all__ = ["register"]


def bench_orchestrator(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    rounds: int = typer.Option(20, min=1, help="Stop, start and kill -9 rounds per process."),
    workdir: Path | None = typer.Option(None, "--dir", help="Home for the benchmark."),
) -> None:
    """Stop, start-to-ready and restart-after-kill -9 p95 (ms) per process kind."""
    show_bench("orchestrator", run_orchestrator_benchmark(rounds=rounds, home=workdir), as_json)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench orchestrator`` (no command)."""
    bench_app.command("orchestrator")(bench_orchestrator)
