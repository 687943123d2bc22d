"""``/api/v1`` on a hub app: the services built, the routes mounted, the first admin key.

``stockyard up`` (and the orchestrator's ``hub``) call :func:`enable_control` once with the
app of ``HealthServer`` before it starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from stockyard.api._v1_auth import (
    RateLimiter,
    caller_dependency,
    install_error_handlers,
    require_keys_for_bind,
)
from stockyard.api._v1_events import events_router
from stockyard.api._v1_hot import HotReads
from stockyard.api._v1_system import system_routers
from stockyard.api._v1_trading import trading_router
from stockyard.bus import MessageBus
from stockyard.config import Settings
from stockyard.health import HealthService
from stockyard.services import (
    AccessService,
    NodeClient,
    ProcessControl,
    Services,
    build_services,
    ensure_admin_key,
)
from stockyard.store import Database, open_database

__all__ = ["API_PREFIX", "Control", "enable_control", "first_admin_key", "mount_api_v1"]

API_PREFIX = "/api/v1"


def mount_api_v1(app: FastAPI, services: Services, settings: Settings) -> None:
    """Add every ``/api/v1`` route over ``services`` to ``app``, with the error shape."""
    limiter = RateLimiter(settings.api.rate_limit, settings.api.rate_burst)
    caller = caller_dependency(services.access, limiter)
    # Each router straight onto the app: a request matches through one level of routers.
    routers = [
        trading_router(services.trading, caller),
        *system_routers(services, caller),
        events_router(services.events, caller),
    ]
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    install_error_handlers(app)
    app.add_middleware(HotReads, access=services.access, trading=services.trading, limiter=limiter)
    app.state.services = services


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    """What :func:`enable_control` set up: the services, their database, and the admin
    key file written on this start (None when keys existed already)."""

    services: Services
    database: Database
    admin_key: Path | None

    def close(self) -> None:
        """Stop the services and close their database (call it outside an event loop)."""
        asyncio.run(self.services.close())
        self.database.dispose()


def enable_control(
    app: FastAPI,
    settings: Settings,
    *,
    host: str,
    nodes: Mapping[str, NodeClient] = {},
    buses: tuple[MessageBus, ...] = (),
    supervisor: ProcessControl | None = None,
) -> Control:
    """Build the services, create the first admin key when the store has none (written to
    ``STOCKYARD_HOME/run/admin.key``, mode 0600), refuse a non-loopback ``host`` without
    keys, and mount ``/api/v1`` on ``app`` (whose ``state.health`` is the HealthService).
    ``supervisor``: the processes' supervisor when the system runs under supervisord."""
    health: HealthService = app.state.health
    database = open_database(settings)
    services = build_services(
        settings,
        database=database,
        health=health,
        nodes=nodes,
        buses=buses,
        supervisor=supervisor,
    )
    try:
        require_keys_for_bind(host, services.access)  # keys made by an operator, not below
    except RuntimeError:
        database.dispose()
        raise
    admin_key = ensure_admin_key(services.access, settings.home)
    mount_api_v1(app, services, settings)
    return Control(services=services, database=database, admin_key=admin_key)


def first_admin_key(settings: Settings, *, host: str) -> Path | None:
    """What :func:`enable_control` does to the key store, for a hub started apart (``up``
    supervised, before its processes start): refuse a non-loopback ``host`` without keys
    (RuntimeError), then create the first admin key when the store has none; answers the
    key file written, else None."""
    database = open_database(settings)
    try:
        access = AccessService(database)
        require_keys_for_bind(host, access)
        return ensure_admin_key(access, settings.home)
    finally:
        database.dispose()
