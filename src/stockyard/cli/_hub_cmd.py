"""``stockyard hub``: the hub as a process of its own (what ``stockyard up`` runs under
supervisord as ``hub``): the health API and metrics, the API v1 over every ``node@NAME`` of
the process table (each reached on its control socket, its events relayed), the MCP
endpoint and the dashboard, on the health port."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import typer
from fastapi import FastAPI

from stockyard.api import HealthServer, enable_control
from stockyard.bus import RedisBus, bus_from_settings
from stockyard.cli._context import fail, state_of
from stockyard.config import ConfigError, Settings
from stockyard.dashboard import mount_dashboard, write_sign_in_link
from stockyard.mcp import mount_mcp
from stockyard.obs import flush_logs, get_logger, shutdown_logging
from stockyard.orchestrator import ProcessTable, Supervisor, node_socket_path, process_checks
from stockyard.services import EventHub, SocketNodeClient, SocketNodeHealth, admin_key_path

__all__ = ["register"]

_log = get_logger("system")


def _node_clients(settings: Settings) -> dict[str, SocketNodeClient]:
    """One client per ``node@NAME`` of the process table, keyed by NAME, on its socket."""
    try:
        table = ProcessTable.from_settings(settings)
    except ConfigError as exc:
        fail(str(exc))
    clients: dict[str, SocketNodeClient] = {}
    for spec in table:
        if spec.kind == "node":
            name = spec.name.partition("@")[2] or spec.name
            clients[name] = SocketNodeClient(node_socket_path(settings.home, name), name=name)
    return clients


def _relay_events(
    app: FastAPI,
    nodes: Mapping[str, SocketNodeClient],
    events: EventHub,
    bus: RedisBus | None = None,
) -> None:
    """While ``app`` runs, put every node's events into ``events``: from the Redis ``bus``
    when there is one (started on the app's loop), else relayed from each node's socket (a
    task per node; the relay reconnects when its node restarts)."""
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(owner: Any) -> AsyncIterator[Any]:
        tasks = []
        if bus is not None:
            await bus.start()
            events.attach(bus)
        else:
            tasks = [asyncio.ensure_future(node.relay(events)) for node in nodes.values()]
        try:
            async with outer(owner) as state:
                yield state
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            for node in nodes.values():  # their connections belong to this loop
                await node.close()
            if bus is not None:
                events.detach()
                await bus.close()

    app.router.lifespan_context = lifespan


def _events_bus(settings: Settings) -> RedisBus | None:
    """The Redis bus the hub reads every process's events from (its own consumer group,
    so that it sees each execution event), or None on the in-process bus."""
    try:
        bus = bus_from_settings(settings, name="hub", group="hub")
    except ConfigError as exc:
        fail(str(exc))
    return bus if isinstance(bus, RedisBus) else None


def hub(ctx: typer.Context) -> None:
    """Serve the hub (health, metrics, API v1, MCP, dashboard) on the health port until SIGTERM."""
    settings = state_of(ctx).start_logging()
    try:
        server = HealthServer.from_settings(settings)
    except OSError as exc:
        fail(
            f"health API port {settings.health.host}:{settings.health.api_port} is not free "
            f"({exc.strerror or exc}); set HEALTH_API_PORT"
        )
    supervisor = None
    if os.environ.get("SUPERVISOR_PROCESS_NAME"):  # under supervisord: watch the processes too
        supervisor = Supervisor.from_settings(settings)
        for check in process_checks(supervisor):
            server.service.registry.add(check, replace=True)
    nodes = _node_clients(settings)
    if nodes:  # each node's own `node@NAME:broker` probes the broker it trades on
        server.service.registry.remove("broker:responseTime")
    for client in nodes.values():
        server.service.add_source(SocketNodeHealth(client))
    try:
        control = enable_control(
            server.app, settings, host=settings.health.host, nodes=nodes, supervisor=supervisor
        )
    except RuntimeError as exc:
        fail(str(exc))
    try:
        mount_mcp(server.app, control.services, settings)
        signin = mount_dashboard(server.app, control.services)  # processes: the service's
        _relay_events(server.app, nodes, control.services.events, _events_bus(settings))
        key_file = admin_key_path(settings.home)
        write_sign_in_link(signin, url=server.url, key_file=key_file, home=settings.home)
        _log.info("hub listening", url=server.url, nodes=sorted(nodes))
        # What start-up made lives as long as the process: frozen, the collector skips it,
        # and the final collection at exit takes 0.3 s instead of 3.5 s (stop_p95_ms).
        gc.freeze()
        server.serve()
    finally:
        control.close()
        flush_logs()
        shutdown_logging()


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard hub`` (no benchmark)."""
    app.command("hub")(hub)
