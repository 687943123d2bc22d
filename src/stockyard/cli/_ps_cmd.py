"""``stockyard ps``, ``start``, ``stop``, ``restart`` and ``logs``: the processes of a running
``stockyard up``, through its supervisord. ``start``, ``stop`` and ``restart`` go through the
Process service, as the API's do, so the audit log records each (as the local user)."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable

import typer
from rich.console import Console
from rich.table import Table

from stockyard.cli._context import fail, print_json, state_of
from stockyard.config import ConfigError
from stockyard.orchestrator import (
    ProcessInfo,
    Supervisor,
    SupervisorRefusedError,
    SupervisorUnavailableError,
)
from stockyard.services import AccessService, Caller, ProcessService, ProcessView, ServiceError
from stockyard.store import Database, open_database

__all__ = ["register"]

_MIB = 1024 * 1024


def _supervisor(ctx: typer.Context) -> Supervisor:
    try:
        return Supervisor.from_settings(state_of(ctx).settings())
    except ConfigError as exc:
        fail(str(exc))


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _table(infos: list[ProcessInfo]) -> Table:
    table = Table(show_header=True)
    for column in ("process", "state", "pid", "uptime", "restarts", "CPU %", "RSS MiB"):
        table.add_column(column, style="cyan" if column == "process" else None)
    for column in ("threads", "open files"):
        table.add_column(column)
    for i in infos:
        style = "green" if i.running else ("red" if i.critical else "yellow")
        table.add_row(
            i.name,
            f"[{style}]{i.state}[/{style}]",
            str(i.pid or "-"),
            _uptime(i.uptime_s),
            str(i.restarts),
            f"{i.cpu_percent:.1f}",
            f"{i.rss_bytes / _MIB:.1f}",
            str(i.threads),
            str(i.open_files),
        )
    return table


def ps(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """The processes of the running system: state, pid, uptime, restarts, CPU, memory."""
    supervisor = _supervisor(ctx)
    try:
        infos = supervisor.processes(sample_s=0.2)
    except SupervisorUnavailableError as exc:
        fail(str(exc), code=1)
    if as_json:
        print_json([i.to_dict() for i in infos])
    else:
        Console().print(_table(infos))


def _names(supervisor: Supervisor, name: str | None, every: bool) -> list[str]:
    if every == (name is not None):
        fail("give a process NAME or --all")
    if name is not None and name not in supervisor.table:
        fail(f"no process named {name!r}; the table has {', '.join(supervisor.table.names)}")
    return supervisor.table.names if every else [name or ""]


def _service(ctx: typer.Context, supervisor: Supervisor) -> tuple[ProcessService, Database]:
    """The Process service the API uses, over ``supervisor``, auditing in the state database."""
    database = open_database(state_of(ctx).settings())
    return ProcessService(supervisor, auditor=AccessService(database).auditor), database


async def _act(service: ProcessService, verb: str, name: str | None) -> list[ProcessView]:
    caller = Caller.local()  # the user at this terminal, as the audit log names them
    if name is not None:
        one: Callable[..., Awaitable[ProcessView]] = getattr(service, verb)
        return [await one(name, caller=caller)]
    if verb == "start":
        return await service.start_all(caller=caller)
    stopped = await service.stop_all(caller=caller)
    return stopped if verb == "stop" else await service.start_all(caller=caller)


def _control(ctx: typer.Context, verb: str, name: str | None, every: bool, as_json: bool) -> None:
    supervisor = _supervisor(ctx)
    names = _names(supervisor, name, every)
    service, database = _service(ctx, supervisor)
    try:
        done = asyncio.run(_act(service, verb, None if every else names[0]))
    except ServiceError as exc:
        fail(f"{verb} {name or '--all'}: {exc.message}", code=1)
    finally:
        database.dispose()
    if as_json:
        print_json([view.model_dump(mode="json") for view in done])
    else:
        for view in done:
            typer.echo(f"{view.name}: {view.state}" + (f" (pid {view.pid})" if view.pid else ""))


_NAME = typer.Argument(None, help="The process (see `stockyard ps`).")
_ALL = typer.Option(False, "--all", help="Every process (in dependency order).")
_JSON = typer.Option(False, "--json", help="JSON on stdout.")


def start(
    ctx: typer.Context, name: str | None = _NAME, every: bool = _ALL, as_json: bool = _JSON
) -> None:
    """Start a process (or --all) and wait until its readiness probe answers."""
    _control(ctx, "start", name, every, as_json)


def stop(
    ctx: typer.Context, name: str | None = _NAME, every: bool = _ALL, as_json: bool = _JSON
) -> None:
    """Stop a process (or --all, in reverse dependency order), its whole process group."""
    _control(ctx, "stop", name, every, as_json)


def restart(
    ctx: typer.Context, name: str | None = _NAME, every: bool = _ALL, as_json: bool = _JSON
) -> None:
    """Restart a process (or --all) and wait until it is ready again."""
    _control(ctx, "restart", name, every, as_json)


def logs(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The process (see `stockyard ps`)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new output."),
    size: int = typer.Option(16_384, "--bytes", min=1, help="How much of the end to show."),
) -> None:
    """A process's output as supervisord captured it (-f to follow)."""
    supervisor = _supervisor(ctx)
    if name not in supervisor.table:
        fail(f"no process named {name!r}; the table has {', '.join(supervisor.table.names)}")
    try:
        if not follow:
            sys.stdout.write(supervisor.tail(name, length=size))
            return
        stopped = threading.Event()
        try:
            for piece in supervisor.follow(name, length=size, stopped=stopped.is_set):
                sys.stdout.write(piece)
                sys.stdout.flush()
        except KeyboardInterrupt:
            stopped.set()
    except SupervisorUnavailableError as exc:
        fail(str(exc), code=1)
    except SupervisorRefusedError as exc:
        fail(f"logs {name}: {exc}", code=1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``ps``, ``start``, ``stop``, ``restart`` and ``logs`` (no benchmark)."""
    for command in (ps, start, stop, restart, logs):
        app.command(command.__name__)(command)
