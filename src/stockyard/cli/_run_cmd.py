"""``stockyard run``: one strategy trading live (sandbox, Alpaca paper or Alpaca live); and
``stockyard bench node``. The lead wires both with ``register(app, bench_app)``."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import typer
from rich.console import Console
from rich.panel import Panel

from stockyard.backtest import parse_params
from stockyard.bench import BENCH_SYMBOLS, BenchVenue, run_node_benchmark
from stockyard.bus import bus_from_settings, close_bus, describe_bus, start_bus
from stockyard.cli._bench_cmd import _show
from stockyard.cli._context import fail, parse_duration, print_json, state_of
from stockyard.cli._trading import (
    BROKER_OPTION,
    LIVE_OPTION,
    check_broker,
    choose_bots,
    set_broker,
)
from stockyard.config import ConfigError
from stockyard.engine import (
    TradingNode,
    build_node,
    node_config,
    oms_config,
    venue_settings,
)
from stockyard.strategy import ParameterError, Strategy, StrategyError, create_strategy

__all__ = ["register"]

_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.]{0,9}(/[A-Z]{2,6})?$")
_err = Console(stderr=True)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``run`` and ``bench node``."""
    app.command("run")(run)
    bench_app.command("node")(bench_node)


def _symbols(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        fail("--symbols needs at least one symbol, e.g. AAPL,MSFT")
    for symbol in symbols:
        if not _SYMBOL.match(symbol):
            fail(f"bad symbol {symbol!r}: use tickers like AAPL or BRK.B, crypto like BTC/USD")
    return symbols


def _live_banner() -> None:
    _err.print(
        Panel.fit(
            "[bold]REAL MONEY.[/bold] Orders go to your Alpaca LIVE account "
            "(https://api.alpaca.markets).\nEvery fill is real. Ctrl-C stops the node; "
            "open orders stay at Alpaca.",
            title="LIVE TRADING",
            border_style="bold red",
            style="bold red",
        )
    )


def _status_line(stats: dict[str, object]) -> None:
    positions = stats.get("positions") or {}
    held = " ".join(f"{s}={q}" for s, q in positions.items()) if isinstance(positions, dict) else ""
    typer.echo(
        f"{datetime.now():%H:%M:%S}  bars {stats.get('bars')}  orders {stats.get('orders')}  "
        f"fills {stats.get('fills')}  open {stats.get('open_orders')}  "
        f"refused {stats.get('refused')}  equity {stats.get('equity')}  "
        f"realized P&L {stats.get('realized_pl')}  {held or 'flat'}",
        err=True,
    )


async def _run_node(node: TradingNode, seconds: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, node.request_stop)
    try:
        await start_bus(node.bus)  # Redis (bus.backend): orders, fills and market data to all
        try:
            await node.run(duration=seconds)
        finally:
            await close_bus(node.bus)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(
    ctx: typer.Context,
    strategy: str | None = typer.Option(
        None, "--strategy", help="sma_cross, module:Class or bot.py (default: the [[bots]])"
    ),
    symbols: str | None = typer.Option(None, "--symbols", help="Comma-separated, e.g. AAPL,MSFT"),
    param: list[str] = typer.Option(
        [], "--param", help="name=value (repeat)."
    ),  # Typer's declaration style
    broker: str | None = BROKER_OPTION,
    duration: str | None = typer.Option(None, "--duration", help="Stop after (30s, 10m, 2h)."),
    sandbox_url: str | None = typer.Option(
        None, "--sandbox-url", help="The sandbox's URL (default: alpaca.base_url)."
    ),
    strategy_id: str | None = typer.Option(None, "--id", help="Strategy id (default: name)."),
    live_ok: bool = LIVE_OPTION,
    status_every: str = typer.Option("10s", "--status-every", help="Status line period."),
    as_json: bool = typer.Option(False, "--json", help="Print the final figures as JSON."),
) -> None:
    """Trade one strategy, or the [[bots]] of stockyard.toml, until Ctrl-C (or --duration).

    One strategy with --strategy and --symbols; without them, every enabled [[bots]]
    table. On the sandbox unless --broker (or node.broker) says otherwise.
    """
    state = state_of(ctx)
    set_broker(state, broker, live_ok=live_ok)
    seconds = parse_duration(duration) if duration is not None else None
    every = parse_duration(status_every)
    one = _one_bot(strategy, symbols, param, strategy_id)
    settings = state.start_logging()
    kind = check_broker(settings)
    bots = one if one is not None else choose_bots(settings, kind)
    if not bots:
        fail("give --strategy and --symbols, or configure [[bots]] in stockyard.toml")
    if kind == "alpaca-live":
        _live_banner()
    try:
        where = venue_settings(settings, kind, sandbox_url=sandbox_url).base_url
        node = build_node(
            settings,
            strategies=bots,
            broker=kind,
            bus=bus_from_settings(settings, name="node"),
            sandbox_url=sandbox_url,
            config=node_config(settings, status_every_s=max(every, 0.5)),
            oms=oms_config(settings),
        )
    except ConfigError as exc:
        fail(str(exc))
    shown = "; ".join(
        f"[cyan]{b.strategy_id}[/cyan] ({b.name}) on {', '.join(b.symbols)}" for b in bots
    )
    _err.print(f"{shown} via {kind} at {where}, bus {describe_bus(settings)}; Ctrl-C stops it")
    node.status_listeners.append(_status_line)
    try:
        asyncio.run(_run_node(node, seconds))
    except (OSError, TimeoutError, ConfigError) as exc:
        fail(f"the node could not run: {exc}", code=1)
    stats = node.stats()
    if as_json:
        print_json(stats)
    else:
        _status_line(stats)
    if node.failure is not None:
        fail(node.failure, code=1)
    typer.echo("node stopped cleanly", err=True)


def _one_bot(
    strategy: str | None, symbols: str | None, param: list[str], strategy_id: str | None
) -> list[Strategy] | None:
    """The bot of ``--strategy`` and ``--symbols``; None when neither is given."""
    if strategy is None and symbols is None:
        if param or strategy_id:
            fail("--param and --id need --strategy and --symbols")
        return None
    if strategy is None or symbols is None:
        fail("--strategy and --symbols go together (or give neither to run the [[bots]])")
    chosen = _symbols(symbols)
    try:
        params = parse_params(param)
        return [create_strategy(strategy, symbols=chosen, params=params, strategy_id=strategy_id)]
    except (StrategyError, ParameterError, ValueError) as exc:
        fail(str(exc))


# -- bench ----------------------------------------------------------------------------------

_BENCH_KEY, _BENCH_SECRET = "BENCHKEY", "bench-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _sandbox_process() -> Iterator[BenchVenue]:
    """A paused sandbox in a process of its own (so it does not share the node's
    interpreter lock), in an open session, two minutes in."""
    port = _free_port()
    home = tempfile.mkdtemp(prefix="stockyard-bench-sandbox-")
    process = subprocess.Popen(  # our own interpreter and CLI, fixed arguments: not a shell
        [
            sys.executable,
            "-m",
            "stockyard",
            "sandbox",
            "--port",
            str(port),
            "--speed",
            "0",
            "--start",
            "2024-03-04T15:00:00Z",
            "--key",
            _BENCH_KEY,
            "--secret",
            _BENCH_SECRET,
            "--symbols",
            ",".join(BENCH_SYMBOLS),
            "--source",
            "synthetic",
            "--reset",
        ],
        env={**os.environ, "STOCKYARD_HOME": home},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    client = httpx.Client(
        base_url=base,
        headers={"APCA-API-KEY-ID": _BENCH_KEY, "APCA-API-SECRET-KEY": _BENCH_SECRET},
        timeout=30,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client.get("/sandbox/status").raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    fail("the benchmark's sandbox did not start", code=1)
                time.sleep(0.1)

        def step(seconds: float) -> None:
            client.post("/sandbox/clock", json={"seconds": seconds}).raise_for_status()

        step(120)
        yield BenchVenue(base_url=base, key_id=_BENCH_KEY, secret_key=_BENCH_SECRET, step=step)
    finally:
        client.close()
        process.terminate()
        process.wait(30)


def bench_node(
    steps: int = typer.Option(300, help="Sandbox minutes stepped (2 orders each)."),
    bars: int = typer.Option(2_000, help="Minutes replayed per symbol (50 symbols)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Node: bar → order latency (µs p50/p99) on the sandbox; bars/s, 10 bots × 50 symbols."""
    with _sandbox_process() as venue:
        figures = run_node_benchmark(venue, steps=steps, bars_per_symbol=bars)
    _show("node", dict(figures), as_json)
