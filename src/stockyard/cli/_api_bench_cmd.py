"""``stockyard bench api``: the REST API under open-loop load, and event delivery."""

from __future__ import annotations

import typer

from stockyard.bench._api import run_api_benchmark
from stockyard.cli._context import print_json

__all__ = ["register"]

_JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench api``."""
    bench_app.command("api")(bench_api)


def bench_api(
    rate: float = typer.Option(2000.0, help="Requests per second, scheduled (open loop)."),
    seconds: float = typer.Option(10.0, help="How long the load runs."),
    connections: int = typer.Option(100, help="Keep-alive connections."),
    events: int = typer.Option(500, help="Bars timed from the bus to an SSE client."),
    as_json: bool = _JSON,
) -> None:
    """GET /api/v1/positions p99 (ms) at 2,000 req/s open loop; bus → SSE event p99 (ms)."""
    figures = run_api_benchmark(rate=rate, seconds=seconds, connections=connections, events=events)
    if as_json:
        print_json(figures)
        return
    for key, value in figures.items():
        typer.echo(f"{key:<24} {value}")
