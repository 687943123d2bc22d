"""``stockyard up``: start the system and run until Ctrl-C (or ``--duration``)."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import ExitStack
from types import FrameType

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from stockyard import __version__
from stockyard.api import HealthServer, enable_control
from stockyard.bus import MessageBus, RedisBus, bus_from_settings, describe_bus
from stockyard.cli._context import fail, parse_duration, state_of
from stockyard.cli._sandbox_cmd import data_name, sandbox_config, shown_secret
from stockyard.cli._trading import (
    BROKER_OPTION,
    LIVE_OPTION,
    check_trading,
    choose_bots,
    set_broker,
)
from stockyard.cli._up_supervised import open_the_replay, run_supervised
from stockyard.config import BrokerKind, Settings, account_of, broker_of
from stockyard.dashboard import mount_dashboard, write_sign_in_link
from stockyard.data import ParquetStore, write_synthetic
from stockyard.engine import (
    NodeHealth,
    NodeThread,
    build_node,
    node_config,
    oms_config,
    venue_settings,
)
from stockyard.mcp import mount_mcp
from stockyard.obs import flush_logs, get_logger, logging_stats, shutdown_logging
from stockyard.sandbox import SandboxServer, SandboxStateError
from stockyard.services import LocalNodeClient, admin_key_path
from stockyard.strategy import Strategy

_log = get_logger("system")


def _start_health(
    settings: Settings,
    stack: ExitStack,
    table: Table,
    node: NodeThread | None = None,
    *,
    account: str = "sandbox",
) -> str:
    try:
        server = HealthServer.from_settings(settings)
    except OSError as exc:
        fail(
            f"health API port {settings.health.host}:{settings.health.api_port} is not free "
            f"({exc.strerror or exc}); set HEALTH_API_PORT"
        )
    if node is not None and node.loop is not None:
        # The node's checks as `node@ACCOUNT:*`, as the hub of the supervised system has
        # them; its own broker check probes the broker it trades on, with its keys.
        server.service.registry.remove("broker:responseTime")
        server.service.add_source(
            NodeHealth(
                node.node,
                account=account,
                loop=node.loop,
                timeout=settings.health.check_timeout,
            )
        )
    # Named by its account, as `node@sandbox` (or `node@paper`) is under supervisord.
    nodes = (
        {account: LocalNodeClient(node.node, name=account, loop=node.loop)}
        if node is not None
        else {}
    )
    try:
        control = enable_control(
            server.app,
            settings,
            host=settings.health.host,
            nodes=nodes,
            buses=(_in_process(node.node.bus),) if node is not None else (),
        )
    except RuntimeError as exc:
        fail(str(exc))
    stack.callback(control.close)
    mount_mcp(server.app, control.services, settings)
    signin = mount_dashboard(server.app, control.services)
    server.start()
    stack.callback(server.stop)
    if control.admin_key is not None:
        table.add_row("admin API key", f"{control.admin_key}  (written once, mode 0600)")
    table.add_row("API v1", f"{server.url}/api/v1  (events {server.url}/api/v1/events)")
    table.add_row("MCP", f"{server.url}/mcp  (stdio: stockyard mcp)")
    table.add_row("health API", f"{server.url}/health  (docs {server.url}/docs)")
    table.add_row("metrics", f"{server.url}/metrics")
    table.add_row("dashboard", f"{server.url}/  (sign in with the one-time link below)")
    _log.info("health API listening", url=server.url)
    key_file = admin_key_path(settings.home)
    link = write_sign_in_link(signin, url=server.url, key_file=key_file, home=settings.home)
    if link is None:
        return f"{server.url}/signin  (sign in with an API key: stockyard keys create)"
    return link


def _in_process(bus: MessageBus) -> MessageBus:
    """What the hub in this process listens to: everything here is published in this
    process, so a Redis bus's local side (whose subscriptions need no loop of Redis's)."""
    return bus.local if isinstance(bus, RedisBus) else bus


def _start_sandbox(
    settings: Settings, stack: ExitStack, table: Table
) -> tuple[SandboxServer, tuple[str, str]]:
    assert settings.data.dir is not None  # filled from home by Settings
    store = ParquetStore(settings.data.dir)
    if not any(entry.timeframe.is_intraday for entry in store.catalog()):
        _log.info("writing the sample data set", store=str(store.root))
        write_synthetic(store)
    config, creds = sandbox_config(settings)
    try:
        server = SandboxServer(config, log_level="warning")
    except SandboxStateError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(
            f"sandbox port {config.host}:{config.port} is not free ({exc.strerror or exc}); "
            "set STOCKYARD_SANDBOX__PORT"
        )
    server.start()
    stack.callback(server.stop)
    table.add_row("sandbox exchange", f"{server.base_url}  (Alpaca REST: point url_override here)")
    table.add_row("  streams", f"{server.stream_url}/v2/iex, /v1beta3/crypto/us, /stream")
    table.add_row("  APCA-API-KEY-ID", creds[0])
    table.add_row("  APCA-API-SECRET-KEY", shown_secret(creds))
    table.add_row("  replaying", f"{', '.join(config.symbols)} from {data_name(config)}")
    _log.info("sandbox listening", url=server.base_url, symbols=list(config.symbols))
    return server, (creds[0], creds[1])


def _start_node(
    settings: Settings,
    stack: ExitStack,
    table: Table,
    sandbox: tuple[SandboxServer, tuple[str, str]],
) -> NodeThread | None:
    server, (key, secret) = sandbox
    bots = choose_bots(settings, "sandbox", replayed=server.config.symbols)
    if not bots:
        table.add_row("trading node", "not started: the sandbox replays no stocks")
        return None
    # The stock bots would idle until the replayed session opens (hours at speed 60 while
    # crypto keeps the night from being skipped), and could not warm up where the data
    # starts: start the replay at an open with history behind it.
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    moved = open_the_replay(server.base_url, headers)
    if moved:
        table.add_row("  replay clock", moved)
    alpaca = settings.alpaca.model_copy(
        update={"key_id": SecretStr(key), "secret_key": SecretStr(secret)}
    )
    node_settings = settings.model_copy(update={"alpaca": alpaca})
    return _run_node(node_settings, stack, table, bots, sandbox_url=server.base_url)


def _start_account_node(
    settings: Settings, stack: ExitStack, table: Table, broker: BrokerKind
) -> NodeThread:
    """The node on the user's Alpaca account (paper, or live behind its gate)."""
    bots = choose_bots(settings, broker)
    return _run_node(settings, stack, table, bots, broker=broker)


def _run_node(
    settings: Settings,
    stack: ExitStack,
    table: Table,
    bots: list[Strategy],
    *,
    broker: BrokerKind = "sandbox",
    sandbox_url: str | None = None,
) -> NodeThread:
    try:
        node = build_node(
            settings,
            strategies=bots,
            broker=broker,
            bus=bus_from_settings(settings, name="node"),
            sandbox_url=sandbox_url,
            config=node_config(settings),
            oms=oms_config(settings),
        )
        thread = NodeThread(node).start()
    except Exception as exc:  # one line for the person at the terminal; the log has the rest
        fail(f"the trading node did not start: {exc}", code=1)
    stack.callback(thread.stop)
    for bot in bots:
        shown = ", ".join(f"{k}={v}" for k, v in bot.parameters.items())
        table.add_row(f"  bot {bot.strategy_id}", f"{', '.join(bot.symbols)}  ({shown})")
    where = venue_settings(settings, broker, sandbox_url=sandbox_url).base_url
    table.add_row("trading node", f"run {node.run_id} on {where} ({broker})")
    _log.info("trading node started", run_id=node.run_id, bots=[b.strategy_id for b in bots])
    return thread


def up(
    ctx: typer.Context,
    duration: str | None = typer.Option(
        None, "--duration", help="Stop by itself after this long (30s, 10m, 2h)."
    ),
    single_process: bool = typer.Option(
        False, "--single-process", help="Run every part in this one process (no supervisord)."
    ),
    broker: str | None = BROKER_OPTION,
    live_ok: bool = LIVE_OPTION,
) -> None:
    """Start everything this install has, print where it runs, and idle until Ctrl-C.

    The enabled [[bots]] of stockyard.toml trade on --broker (default: node.broker, else
    the sandbox); without [[bots]], the demo bots trade on the sandbox.
    """
    seconds = parse_duration(duration) if duration is not None else None
    state = state_of(ctx)
    set_broker(state, broker, live_ok=live_ok)
    settings = state.start_logging()
    if check_trading(settings) == "alpaca-live":
        typer.secho(
            "LIVE TRADING: the bots' orders go to your Alpaca live account; every fill is "
            "real money.",
            err=True,
            fg="red",
            bold=True,
        )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("stop requested", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        if not single_process:
            config_file = state_of(ctx).config_file
            run_supervised(settings, seconds=seconds, config_file=config_file, stop=stop)
        else:
            _run_single(settings, seconds=seconds, stop=stop, started=started)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _log.info("stockyard stopped", uptime_s=round(time.monotonic() - started, 1))
        flush_logs()
        shutdown_logging()
    typer.echo("stockyard stopped cleanly", err=True)


def _run_single(
    settings: Settings, *, seconds: float | None, stop: threading.Event, started: float
) -> None:
    """The one-process mode: the sandbox (when it is the broker), the node and the health
    API in this process."""
    table = Table(title=f"stockyard {__version__} is up", show_header=True)
    table.add_column("what", style="cyan")
    table.add_column("where")
    broker = broker_of(settings)
    with ExitStack() as stack:
        if broker == "sandbox":
            node = _start_node(settings, stack, table, _start_sandbox(settings, stack, table))
        else:
            node = _start_account_node(settings, stack, table, broker)
        link = _start_health(settings, stack, table, node, account=account_of(broker))
        table.add_row("logs", str(settings.log.dir))
        table.add_row("data", str(settings.data.dir))
        table.add_row("state database", settings.database.sqlalchemy_url().split("://", 1)[0])
        table.add_row("bus", describe_bus(settings))
        Console(stderr=True).print(table)
        typer.echo(f"Sign in to the dashboard (one-time link, 5 minutes): {link}", err=True)
        _log.info(
            "stockyard up",
            version=__version__,
            home=str(settings.home),
            log_dir=str(settings.log.dir),
            duration_s=seconds,
        )
        _idle(stop, seconds=seconds, interval=settings.health.check_interval, started=started)


def _idle(stop: threading.Event, *, seconds: float | None, interval: float, started: float) -> None:
    while not stop.is_set():
        remaining = None if seconds is None else seconds - (time.monotonic() - started)
        if remaining is not None and remaining <= 0:
            return
        if stop.wait(interval if remaining is None else min(interval, remaining)):
            return
        stats = logging_stats()
        _log.info(
            "heartbeat",
            uptime_s=round(time.monotonic() - started, 1),
            log_entries=stats["total"],
            log_errors=stats["errors"],
        )


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard up`` to ``app`` (no benchmark)."""
    app.command("up")(up)
