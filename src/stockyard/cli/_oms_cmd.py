"""``stockyard bench oms``: submit → fill through the order manager (SimBroker, and
AlpacaBroker against a sandbox started here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import typer

from stockyard.bench import run_oms_benchmark
from stockyard.cli._bench_cmd import _show
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.sandbox import SandboxConfig, SandboxServer

__all__ = ["register"]

_KEY, _SECRET = "BENCHKEY", "bench-secret"
# Monday 4 March 2024, 10:00 New York: the market is open.
_START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench oms``."""
    bench_app.command("oms")(bench_oms)


def bench_oms(
    orders: int = typer.Option(20_000, help="Orders through SimBroker."),
    alpaca_orders: int = typer.Option(200, help="Orders through AlpacaBroker on the sandbox."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Order manager: µs/order on SimBroker; ms p50/p99 submit → fill on the sandbox."""
    config = SandboxConfig(
        key_id=_KEY,
        secret_key=_SECRET,
        port=0,
        symbols=("AAPL",),
        start=_START,
        speed=0.0,
        cash=Decimal(10_000_000),
    )
    server = SandboxServer(config).start()
    try:
        step = server.sandbox.step_to(server.sandbox.clock.now() + timedelta(seconds=120))
        server.submit(step).result(60)  # two minutes of data: AAPL has a quote
        broker = AlpacaBroker(key_id=_KEY, secret_key=_SECRET, base_url=server.base_url)
        figures = run_oms_benchmark(orders=orders, broker=broker, broker_orders=alpaca_orders)
    finally:
        server.stop()
    _show("oms", dict(figures), as_json)
