"""``stockyard up`` supervised: supervisord runs the process table; this process starts the
processes in dependency order, watches them, and stops them all in reverse order."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from stockyard import __version__
from stockyard.api import first_admin_key
from stockyard.bus import RedisBus, bus_from_settings, describe_bus
from stockyard.cli._context import fail
from stockyard.cli._trading import choose_bots
from stockyard.config import ConfigError, Settings, broker_of
from stockyard.dashboard import link_file
from stockyard.data import ParquetStore, write_synthetic
from stockyard.health import AlertEvent
from stockyard.obs import get_logger
from stockyard.orchestrator import (
    FileLock,
    LockedError,
    NotReadyError,
    ProcessMonitor,
    ProcessSpec,
    ProcessTable,
    RunPaths,
    SupervisordProcess,
    local_url,
)

__all__ = ["open_the_replay", "run_supervised"]

_log = get_logger("system")
POLL_S = 0.1


def _check_port(host: str, port: int, what: str, setting: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"{what} port {host}:{port} is not free ({exc.strerror or exc}); set {setting}")


def _sandbox_keys(settings: Settings, run_dir: Path) -> tuple[str, str]:
    """The sandbox's keys: configured, else generated once for this home and kept (mode
    0600) under run/, so that the sandbox's saved state (its accounts are keyed by them)
    still opens on the next `up`."""
    key = settings.sandbox.key_id or settings.alpaca.key_id
    secret = settings.sandbox.secret_key or settings.alpaca.secret_key
    if key is not None and secret is not None:
        return key.get_secret_value(), secret.get_secret_value()
    path = run_dir / "sandbox-keys.json"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        return str(kept["key_id"]), str(kept["secret_key"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    made = f"SANDBOX{secrets.token_hex(6).upper()}", secrets.token_urlsafe(24)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"key_id": made[0], "secret_key": made[1]}, out)
    return made


def _environment(
    settings: Settings, table: ProcessTable, paths: RunPaths, config_file: Path | None
) -> dict[str, str]:
    """The processes' environment: ours, the home, the settings file, and the sandbox's keys
    (so that the sandbox and the node agree)."""
    env = dict(os.environ)
    env["STOCKYARD_HOME"] = str(settings.home)
    if config_file is not None:
        env["STOCKYARD_CONFIG"] = str(config_file.absolute())
    if "sandbox" in table:
        key, secret = _sandbox_keys(settings, paths.run_dir)
        env["STOCKYARD_SANDBOX__KEY_ID"] = key
        env["STOCKYARD_SANDBOX__SECRET_KEY"] = secret
    env.update(_trading_env(settings))
    return env


def _trading_env(settings: Settings) -> dict[str, str]:
    """The broker ``up`` chose (``--broker``, ``--i-understand-live-trading``), for the
    processes it starts: the node trades it, the hub reports on it."""
    env: dict[str, str] = {"STOCKYARD_NODE__BROKER": broker_of(settings)}
    if settings.node.live_trading:
        env["STOCKYARD_NODE__LIVE_TRADING"] = "true"
    return env


# Minute bars of the first replayed stock that must lie behind the replay's "now" for `up`
# to start there: an hour, so that the bots' warm-up finds their history.
_HISTORY_BARS = 60


def _open_the_replay(settings: Settings, env: dict[str, str]) -> str | None:
    """Move the sandbox's replay clock to the next open when the market is closed (the
    stock bots would idle for hours) or no history lies behind it yet (the replay starts
    where its data does: the bots could not warm up); returns what was done, for the table."""
    url = local_url(settings.sandbox.host, settings.sandbox.port)
    headers = {
        "APCA-API-KEY-ID": env["STOCKYARD_SANDBOX__KEY_ID"],
        "APCA-API-SECRET-KEY": env["STOCKYARD_SANDBOX__SECRET_KEY"],
    }
    return open_the_replay(url, headers)


def open_the_replay(url: str, headers: dict[str, str]) -> str | None:
    """What :func:`_open_the_replay` does, for the sandbox at ``url``."""
    moved: str | None = None
    for _ in range(3):  # closed, then a session with too little behind it: a few steps
        clock = httpx.get(f"{url}/v2/clock", headers=headers, timeout=10).json()
        if not clock["is_open"]:
            target = clock["next_open"]
        else:
            now = datetime.fromisoformat(clock["timestamp"].replace("Z", "+00:00"))
            short = _HISTORY_BARS - _history_behind(url, headers, now)
            if short <= 0:
                break
            # The first session of the data: an hour of it becomes the bots' history.
            target = (now + timedelta(minutes=short)).isoformat()
        answer = httpx.post(
            f"{url}/sandbox/clock", json={"at": target}, headers=headers, timeout=300
        )
        answer.raise_for_status()
        moved = f"moved to {target}"
    return moved


def _history_behind(url: str, headers: dict[str, str], at: datetime) -> int:
    """Minute bars (up to ``_HISTORY_BARS``) of the first replayed stock before ``at``."""
    status = httpx.get(f"{url}/sandbox/status", headers=headers, timeout=10).json()
    stocks = [s for s in status.get("symbols", ()) if "/" not in s]
    if not stocks:
        return _HISTORY_BARS
    params: dict[str, str | int] = {
        "symbols": stocks[0],
        "timeframe": "1Min",
        "start": (at - timedelta(days=5)).isoformat(),
        "end": at.isoformat(),
        "limit": _HISTORY_BARS,
    }
    answer = httpx.get(f"{url}/v2/stocks/bars", params=params, headers=headers, timeout=30)
    answer.raise_for_status()
    bars = answer.json().get("bars") or {}
    return len(bars.get(stocks[0]) or ())


def _sample_data(settings: Settings) -> None:
    assert settings.data.dir is not None  # filled from home by Settings
    store = ParquetStore(settings.data.dir)
    if not any(entry.timeframe.is_intraday for entry in store.catalog()):
        _log.info("writing the sample data set", store=str(store.root))
        write_synthetic(store)


def _replayed(settings: Settings) -> tuple[str, ...]:
    """The symbols the sandbox process will replay (as ``stockyard sandbox`` chooses them
    with no flags): the local store's minute-bar symbols, else ``sandbox.symbols``."""
    source = settings.sandbox.source
    if source != "synthetic" and settings.data.dir is not None:
        entries = ParquetStore(settings.data.dir).catalog()
        found = sorted({e.symbol for e in entries if e.timeframe.is_intraday})
        if found:
            return tuple(found)
    return settings.sandbox.symbols


class _Events:
    """Where process events go: the configured bus (Redis across processes, run on a loop
    thread of its own here), or the in-process bus."""

    def __init__(self, settings: Settings) -> None:
        bus = bus_from_settings(settings, name="system")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.bus = bus
        if isinstance(bus, RedisBus):
            loop = self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, name="bus", daemon=True)
            self._thread.start()
            asyncio.run_coroutine_threadsafe(bus.start(), loop).result(30)

    def publish(self, topic: str, message: object) -> None:
        """Publish from any thread."""
        if self._loop is None:
            self.bus.publish(topic, message)
        else:
            self._loop.call_soon_threadsafe(self.bus.publish, topic, message)

    def close(self) -> None:
        """Flush and close the bus."""
        if self._loop is not None and isinstance(self.bus, RedisBus):
            asyncio.run_coroutine_threadsafe(self.bus.close(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(10)
            self._loop.close()


def _notify(event: AlertEvent) -> None:
    alert = event.alert
    fields = {"rule": alert.rule, "subject": alert.subject, "summary": alert.summary}
    if event.kind == "resolved":
        _log.info("alert resolved", **fields)
    else:
        _log.error("alert raised", **fields)


def run_supervised(
    settings: Settings,
    *,
    seconds: float | None,
    config_file: Path | None,
    stop: threading.Event,
) -> None:
    """Everything ``stockyard up`` does under supervisord; returns once stopped."""
    assert settings.log.dir is not None  # filled from home by Settings
    try:
        table = ProcessTable.from_settings(settings)
    except ConfigError as exc:
        fail(str(exc))
    paths = RunPaths.of(settings.home, settings.log.dir)
    try:
        lock = FileLock(paths.up_lock).acquire()
    except LockedError as exc:
        fail(f"stockyard up is already running on {settings.home} (pid {exc.holder})", code=1)
    try:
        _run(settings, table, paths, seconds=seconds, config_file=config_file, stop=stop)
    finally:
        lock.release()


def _run(
    settings: Settings,
    table: ProcessTable,
    paths: RunPaths,
    *,
    seconds: float | None,
    config_file: Path | None,
    stop: threading.Event,
) -> None:
    health = settings.health
    if "hub" in table:
        _check_port(health.host, health.api_port, "health API", "HEALTH_API_PORT")
    if "sandbox" in table:
        sandbox = settings.sandbox
        _check_port(sandbox.host, sandbox.port, "sandbox", "STOCKYARD_SANDBOX__PORT")
        _sample_data(settings)
        if settings.bots:  # before anything starts: a bot on a symbol the sandbox lacks
            choose_bots(settings, "sandbox", replayed=_replayed(settings))
    env = _environment(settings, table, paths, config_file)
    admin_key = _prepare_hub(settings) if "hub" in table else None
    started = time.monotonic()
    rows = Table(title=f"stockyard {__version__} is up (supervised)", show_header=True)
    for column in ("process", "pid", "ready in", "where"):
        rows.add_column(column, style="cyan" if column == "process" else None)
    daemon = SupervisordProcess(table, paths, env=env)
    try:
        supervisor = daemon.start()
        supervisor.start_all(on_ready=_on_ready(settings, env, supervisor.process, rows))
        if stop.is_set():
            return
        rows.add_row("supervisord", str(daemon.pid), "", str(paths.socket))
        rows.add_row("bus", "", "", describe_bus(settings))
        if "hub" in table:
            _control_rows(settings, rows, admin_key)
        rows.add_row("logs", "", "", f"{paths.log_dir}  (processes/NAME.log)")
        Console(stderr=True).print(rows)
        if "hub" in table:
            link = _sign_in_link(settings, within_s=30.0)
            typer.echo(f"Sign in to the dashboard (one-time link, 5 minutes): {link}", err=True)
        _log.info("stockyard up", version=__version__, home=str(settings.home), supervised=True)
        events = _Events(settings)
        try:
            monitor = ProcessMonitor(supervisor, publish=events.publish, notify=_notify)
            _watch(monitor, stop, seconds=seconds, started=started)
            supervisor.stop_all()  # in reverse dependency order; the states go out below
            monitor.poll(evaluate=False)
        finally:
            events.close()
    except NotReadyError as exc:
        fail(f"the system did not start: {exc}", code=1)
    except RuntimeError as exc:
        fail(str(exc), code=1)
    finally:
        daemon.stop()


def _prepare_hub(settings: Settings) -> Path | None:
    """Before the hub starts: the first admin key (as ``enable_control`` makes it in one
    process), and no sign-in link of an earlier run left for :func:`_sign_in_link`."""
    try:
        made = first_admin_key(settings, host=settings.health.host)
    except RuntimeError as exc:
        fail(str(exc))
    link_file(settings.home).unlink(missing_ok=True)
    return made


def _control_rows(settings: Settings, rows: Table, admin_key: Path | None) -> None:
    """Where the hub serves the API v1, its events, MCP, health, metrics and the dashboard."""
    url = local_url(settings.health.host, settings.health.api_port)
    if admin_key is not None:
        rows.add_row("admin API key", "", "", f"{admin_key}  (written once, mode 0600)")
    rows.add_row("API v1", "", "", f"{url}/api/v1  (events {url}/api/v1/events)")
    if settings.mcp.enabled:
        rows.add_row("MCP", "", "", f"{url}/mcp  (stdio: stockyard mcp)")
    rows.add_row("health API", "", "", f"{url}/health  (docs {url}/docs)")
    rows.add_row("metrics", "", "", f"{url}/metrics")
    rows.add_row("dashboard", "", "", f"{url}/  (sign in with the one-time link below)")


def _sign_in_link(settings: Settings, *, within_s: float) -> str:
    """The one-time dashboard link the hub left in its link file (it writes it before it
    serves, so it is there once the hub is ready; polled briefly all the same)."""
    path = link_file(settings.home)
    deadline = time.monotonic() + within_s
    while True:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if text.endswith("\n"):
            return text.strip()
        if time.monotonic() > deadline:
            url = local_url(settings.health.host, settings.health.api_port)
            return f"{url}/signin  (sign in with an API key: stockyard keys create)"
        time.sleep(POLL_S)


def _on_ready(
    settings: Settings, env: dict[str, str], process: Callable[[str], object], rows: Table
) -> Callable[[ProcessSpec, float], None]:
    health = settings.health

    def ready(spec: ProcessSpec, seconds: float) -> None:
        info = process(spec.name)
        pid = str(getattr(info, "pid", "") or "")
        where = ""
        if spec.kind == "sandbox":
            where = local_url(settings.sandbox.host, settings.sandbox.port)
            moved = _open_the_replay(settings, env)
            if moved:
                where += f"  (replay clock {moved})"
        elif spec.kind == "feed":
            where = f"market data on {describe_bus(settings)}"
        elif spec.kind == "hub":
            url = local_url(health.host, health.api_port)
            where = f"{url}/health  (metrics {url}/metrics)"
        rows.add_row(spec.name, pid, f"{seconds * 1000:.0f} ms", where)
        _log.info("process ready", process=spec.name, ready_ms=round(seconds * 1000, 1))

    return ready


def _watch(
    monitor: ProcessMonitor, stop: threading.Event, *, seconds: float | None, started: float
) -> None:
    while not stop.is_set():
        if seconds is not None and time.monotonic() - started >= seconds:
            return
        monitor.poll()
        stop.wait(POLL_S)
