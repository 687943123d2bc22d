"""``stockyard bench dashboard``: the dashboard in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import typer

from stockyard.bench._dashboard import run_dashboard_benchmark
from stockyard.cli._bench_cmd import _show as show_bench
from stockyard.cli._context import fail


def register(_app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``dashboard`` to ``bench_app`` (no command of its own)."""

    @bench_app.command("dashboard")
    def bench_dashboard(
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        loads: int = typer.Option(5, min=1, help="Cold loads of the Overview timed."),
        rounds: int = typer.Option(20, min=1, help="Orders placed, fill to marker timed."),
        workdir: Path | None = typer.Option(None, "--dir", help="Home for the benchmark."),
    ) -> None:
        """Overview first paint (cold) and weight; order → fill marker drawn, p95 (ms)."""
        try:
            figures = run_dashboard_benchmark(home=workdir, loads=loads, rounds=rounds)
        except RuntimeError as exc:
            fail(str(exc), code=1)
        show_bench("dashboard", figures, as_json)
