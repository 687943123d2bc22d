"""``stockyard up``: start the system and run until Ctrl-C (or ``--duration``)."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import typer
from rich.console import Console
from rich.table import Table

from stockyard import __version__
from stockyard.cli._context import parse_duration, state_of
from stockyard.obs import flush_logs, get_logger, logging_stats, shutdown_logging

_log = get_logger("system")


def up(
    ctx: typer.Context,
    duration: str | None = typer.Option(
        None, "--duration", help="Stop by itself after this long (30s, 10m, 2h)."
    ),
) -> None:
    """Start everything this install has, print where it runs, and idle until Ctrl-C."""
    seconds = parse_duration(duration) if duration is not None else None
    state = state_of(ctx)
    settings = state.start_logging()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("stop requested", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    table = Table(title=f"stockyard {__version__} is up", show_header=True)
    table.add_column("what", style="cyan")
    table.add_column("where")
    table.add_row("logs", str(settings.log.dir))
    table.add_row("data", str(settings.data.dir))
    table.add_row("state database", settings.database.sqlalchemy_url().split("://", 1)[0])
    table.add_row("bus", settings.bus.backend)
    Console(stderr=True).print(table)
    _log.info(
        "stockyard up",
        version=__version__,
        home=str(settings.home),
        log_dir=str(settings.log.dir),
        duration_s=seconds,
    )
    try:
        interval = settings.health.check_interval
        while not stop.is_set():
            remaining = None if seconds is None else seconds - (time.monotonic() - started)
            if remaining is not None and remaining <= 0:
                break
            if stop.wait(interval if remaining is None else min(interval, remaining)):
                break
            stats = logging_stats()
            _log.info(
                "heartbeat",
                uptime_s=round(time.monotonic() - started, 1),
                log_entries=stats["total"],
                log_errors=stats["errors"],
            )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _log.info("stockyard stopped", uptime_s=round(time.monotonic() - started, 1))
        flush_logs()
        shutdown_logging()
    typer.echo("stockyard stopped cleanly", err=True)
