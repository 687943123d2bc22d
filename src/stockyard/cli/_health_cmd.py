"""``stockyard health``: the status of a running API, ``serve``, ``history``; ``bench health``."""

from __future__ import annotations

from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from stockyard.api import HealthServer, health_app
from stockyard.bench import run_health_benchmark
from stockyard.cli._bench_cmd import _show as show_bench
from stockyard.cli._context import fail, print_json, state_of
from stockyard.config import Settings
from stockyard.core import WallClock
from stockyard.health import parse_since
from stockyard.store import SqlMetricsHistory, open_database

__all__ = ["register"]

NOT_HEALTHY = 1
_COLOUR = {"pass": "green", "warn": "yellow", "fail": "red"}


def _default_url(settings: Settings) -> str:
    host = settings.health.host
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{host}:{settings.health.api_port}"


def _fetch(url: str, token: str | None) -> tuple[int, dict[str, object]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(f"{url.rstrip('/')}/health/detailed", headers=headers, timeout=5.0)
    except httpx.HTTPError as exc:
        fail(
            f"no health API answers at {url} ({type(exc).__name__}); start one with "
            "`stockyard health serve` or `stockyard up`",
            NOT_HEALTHY,
        )
    if response.status_code not in (200, 503):
        fail(f"health API at {url} answered HTTP {response.status_code}", NOT_HEALTHY)
    body = response.json()
    if not isinstance(body, dict):
        fail(f"health API at {url} answered something other than health JSON", NOT_HEALTHY)
    return response.status_code, body


def _table(body: dict[str, object], url: str) -> Table:
    status = str(body.get("status", "?"))
    table = Table(title=f"health {url}: [{_COLOUR.get(status, 'white')}]{status}[/]")
    for column in ("check", "component", "status", "observed", "output"):
        table.add_column(column, overflow="fold")
    checks = body.get("checks")
    for key, entries in sorted(checks.items() if isinstance(checks, dict) else []):
        for entry in entries:
            state = str(entry.get("status", "?"))
            value = entry.get("observedValue")
            observed = "" if value is None else f"{value} {entry.get('observedUnit') or ''}"
            table.add_row(
                key,
                str(entry.get("componentId", "")),
                f"[{_COLOUR.get(state, 'white')}]{state}[/]",
                observed.strip(),
                str(entry.get("output", "")),
            )
    return table


def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the health JSON."),
    url: str | None = typer.Option(None, "--url", help="Health API (default from settings)."),
) -> None:
    """Print the status table of a running health API; exit 1 when it fails or is down."""
    if ctx.invoked_subcommand is not None:
        return
    settings = state_of(ctx).settings()
    where = url or _default_url(settings)
    token = settings.api.token.get_secret_value() if settings.api.token else None
    code, body = _fetch(where, token)
    if as_json:
        print_json(body)
    else:
        Console().print(_table(body, where))
    if code == 503:
        raise typer.Exit(NOT_HEALTHY)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Bind address (default settings)."),
    port: int | None = typer.Option(None, "--port", help="Port (default settings, 5555)."),
) -> None:
    """Run the health API alone until Ctrl-C."""
    settings = state_of(ctx).start_logging()
    bind = host or settings.health.host
    try:
        server = HealthServer(
            health_app(settings), host=bind, port=port or settings.health.api_port
        )
    except OSError as exc:
        fail(f"cannot listen on {bind}:{port or settings.health.api_port}: {exc}", 1)
    typer.echo(f"health API on {server.url} (docs {server.url}/docs); Ctrl-C stops", err=True)
    server.serve()


def history(
    ctx: typer.Context,
    since: str = typer.Option("1h", "--since", help="15m, 2h, 7d or an ISO 8601 time."),
    component: str | None = typer.Option(None, "--component", help="Only this component."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many samples."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sampled health metrics from the state database, oldest first."""
    settings = state_of(ctx).settings()
    try:
        start = parse_since(since, now=WallClock().now())
    except ValueError as exc:
        fail(str(exc))
    database = open_database(settings)
    try:
        samples = SqlMetricsHistory(database).query(since=start, component=component, limit=limit)
    finally:
        database.dispose()
    if as_json:
        print_json([s.to_dict() for s in samples])
        return
    table = Table(title=f"health history since {start.isoformat(timespec='seconds')}")
    for column in ("time", "component", "metric", "value"):
        table.add_column(column)
    for s in samples:
        value = f"{s.value:g} {s.unit or ''}".strip()
        table.add_row(s.time.isoformat(timespec="seconds"), s.component, s.name, value)
    Console().print(table)


def bench_health(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    requests: int = typer.Option(2000, min=100, help="/health/detailed requests timed."),
    seconds: float = typer.Option(10.0, min=1.0, help="Load phase on /health."),
    connections: int = typer.Option(32, min=1, help="Concurrent connections."),
    tool: str = typer.Option("auto", help="auto (wrk when installed), wrk or python."),
    workdir: Path | None = typer.Option(None, "--dir", help="Home for the benchmark."),
    scans: int = typer.Option(200, min=10, help="Full scans of every check timed."),
) -> None:
    """A full scan of every check and the cached report p50/p99 (ms), /health requests/s."""
    figures = run_health_benchmark(
        home=workdir,
        requests=requests,
        seconds=seconds,
        connections=connections,
        tool=tool,
        scans=scans,
    )
    show_bench("health", figures, as_json)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the ``health`` command group to ``app`` and ``health`` to ``bench_app``."""
    health = typer.Typer(help="Health checks, metrics and alerts (the API on port 5555).")
    health.callback(invoke_without_command=True)(status)
    health.command("serve")(serve)
    health.command("history")(history)
    app.add_typer(health, name="health")
    bench_app.command("health")(bench_health)
