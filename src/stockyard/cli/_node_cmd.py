"""``stockyard node NAME``: one account's trading node as a process of its own (what
``stockyard up`` runs under supervisord as ``node@NAME``)."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
import threading
from types import FrameType

import httpx
import typer
from pydantic import SecretStr

from stockyard.bus import InProcessBus, RedisBus, bus_from_settings
from stockyard.cli._context import fail, state_of
from stockyard.cli._trading import check_broker, choose_bots
from stockyard.config import BrokerKind, ConfigError, Settings
from stockyard.engine import NodeHealth, NodeThread, build_node, node_config, oms_config
from stockyard.health import HealthCollector
from stockyard.obs import flush_logs, get_logger, metrics_registry, shutdown_logging
from stockyard.orchestrator import FileLock, LockedError, ProcessTable, RunPaths, local_url
from stockyard.resilience import default_breaker_registry, default_error_registry
from stockyard.services import NodeSocketServer, start_node_socket
from stockyard.strategy import Strategy

__all__ = ["register", "sandbox_url"]

_log = get_logger("system")


def sandbox_url(settings: Settings) -> str:
    """Where the sandbox process of this install listens."""
    return local_url(settings.sandbox.host, settings.sandbox.port)


def _sandbox_settings(settings: Settings) -> tuple[Settings, tuple[str, ...]]:
    """Settings with the sandbox's keys, and the symbols the sandbox replays."""
    key, secret = settings.sandbox.key_id, settings.sandbox.secret_key
    if key is None or secret is None:
        key, secret = settings.alpaca.key_id, settings.alpaca.secret_key
    if key is None or secret is None:
        fail(
            "the sandbox node needs the sandbox's keys: run it under `stockyard up`, or set "
            "sandbox.key_id and sandbox.secret_key"
        )
    url = sandbox_url(settings)
    headers = {
        "APCA-API-KEY-ID": key.get_secret_value(),
        "APCA-API-SECRET-KEY": secret.get_secret_value(),
    }
    try:
        status = httpx.get(f"{url}/sandbox/status", headers=headers, timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"the sandbox at {url} does not answer ({exc})", code=1)
    alpaca = settings.alpaca.model_copy(
        update={
            "key_id": SecretStr(key.get_secret_value()),
            "secret_key": SecretStr(secret.get_secret_value()),
        }
    )
    return settings.model_copy(update={"alpaca": alpaca}), tuple(status["symbols"])


def node(
    ctx: typer.Context,
    account: str = typer.Argument(
        ..., help="The account: sandbox, paper or live (paper and live trade [[bots]])."
    ),
) -> None:
    """Run one account's trading node (its bots) until SIGTERM: a process of `stockyard up`."""
    settings = state_of(ctx).start_logging()
    assert settings.log.dir is not None  # filled from home by Settings
    paths = RunPaths.of(settings.home, settings.log.dir)
    try:
        lock = FileLock(paths.account_lock(account)).acquire()
    except LockedError as exc:
        fail(f"account {account} is already traded by {exc.holder or 'another process'}", code=1)
    try:
        _serve(settings, account)
    finally:
        lock.release()
        flush_logs()
        shutdown_logging()


_ACCOUNTS: dict[str, BrokerKind] = {
    "sandbox": "sandbox",
    "paper": "alpaca-paper",
    "live": "alpaca-live",
}


def _plan(settings: Settings, account: str) -> tuple[Settings, BrokerKind, list[Strategy]]:
    """The settings to build the node with, its broker and its bots; exits on a bad one."""
    broker = _ACCOUNTS.get(account)
    if broker is None:
        fail(f"unknown account {account!r}: use sandbox, paper or live")
    settings = settings.model_copy(
        update={"node": settings.node.model_copy(update={"broker": broker})}
    )
    check_broker(settings)
    if broker != "sandbox":
        return settings, broker, choose_bots(settings, broker)
    node_settings, symbols = _sandbox_settings(settings)
    bots = choose_bots(settings, broker, replayed=symbols)
    if not bots:
        fail("the sandbox replays no stocks: the node has no bot to run")
    return node_settings, broker, bots


def _serve(settings: Settings, account: str) -> None:
    node_settings, broker, bots = _plan(settings, account)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("stop requested", signal=signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        bus = _node_bus(settings, account)
        built = build_node(
            node_settings,
            strategies=bots,
            broker=broker,
            bus=bus,
            sandbox_url=sandbox_url(settings) if broker == "sandbox" else None,
            config=node_config(settings),
            oms=oms_config(settings),
            market_data="bus" if _feed_process(settings, bus) else "own",
        )
        thread = NodeThread(built).start()
    except (ConfigError, OSError, RuntimeError, TimeoutError) as exc:
        fail(f"the trading node did not start: {exc}", code=1)
    try:
        control = _start_socket(thread, account=account, settings=settings)
    except (OSError, RuntimeError, TimeoutError) as exc:
        thread.stop()
        fail(f"the node's control socket did not start: {exc}", code=1)
    ids = ", ".join(b.strategy_id for b in bots)
    _log.info("trading node started", run_id=built.run_id, bots=[b.strategy_id for b in bots])
    # The readiness probe of `node@NAME` waits for this line in the captured output.
    sys.stdout.write(f"node ready: account {account}, run {built.run_id}, bots {ids}\n")
    sys.stdout.flush()
    # What start-up made lives as long as the process: frozen, the collector skips it, and
    # the final collection at exit takes a fraction of a second instead of seconds.
    gc.freeze()
    try:
        stop.wait()
    finally:
        _stop_socket(thread, control)
        thread.stop()
        _log.info("trading node stopped", run_id=built.run_id)


def _node_bus(settings: Settings, account: str) -> InProcessBus | RedisBus:
    """The configured bus (Redis: the node's orders, fills, positions and market data
    reach every process; started on the node's loop by ``NodeThread``)."""
    return bus_from_settings(settings, name=f"node@{account}")


def _feed_process(settings: Settings, bus: object) -> bool:
    """Whether the ``feed`` process of the table holds the market-data stream (Alpaca
    allows one per key) and publishes it on the Redis bus for this node."""
    if not isinstance(bus, RedisBus):
        return False
    try:
        return "feed" in ProcessTable.from_settings(settings)
    except ConfigError:
        return False


def _start_socket(thread: NodeThread, *, account: str, settings: Settings) -> NodeSocketServer:
    """Serve the node's control API and its health on its Unix socket, on the node's loop
    (the hub's ``SocketNodeClient`` for ``node@ACCOUNT`` reaches it there); this process's
    errors and breakers join its metrics."""
    assert thread.loop is not None  # set by start()
    health = NodeHealth(
        thread.node, account=account, loop=thread.loop, timeout=settings.health.check_timeout
    )
    metrics_registry().register(
        HealthCollector.of_process(
            breakers=default_breaker_registry(), errors=default_error_registry()
        )
    )
    made = start_node_socket(thread.node, name=account, home=settings.home, health=health)
    server = asyncio.run_coroutine_threadsafe(made, thread.loop).result(30)
    _log.info("node socket listening", path=str(server.path))
    return server


def _stop_socket(thread: NodeThread, server: NodeSocketServer) -> None:
    """Stop serving the socket before the node stops (the hub sees it unreachable)."""
    if thread.loop is None or thread.loop.is_closed():
        return
    try:
        asyncio.run_coroutine_threadsafe(server.stop(), thread.loop).result(15)
    except (RuntimeError, TimeoutError) as exc:
        _log.warning("node socket did not stop cleanly", error=repr(exc))


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard node`` (no benchmark)."""
    app.command("node")(node)
