"""The FastAPI application over one ``HealthService``, and its wiring from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from stockyard import __version__
from stockyard.api._auth import bearer_guard
from stockyard.api._routes import health_routers
from stockyard.config import Settings
from stockyard.core import Clock
from stockyard.health import HealthCheck, HealthService
from stockyard.store import Database, SqlAlertStore, SqlMetricsHistory, open_database

__all__ = ["build_health_service", "create_app", "health_app"]


def create_app(
    service: HealthService,
    *,
    token: str | None = None,
    open_read: bool = True,
    on_shutdown: Sequence[Callable[[], None]] = (),
) -> FastAPI:
    """The API over ``service``; its lifespan starts and stops the service's checks.

    ``token`` guards control endpoints (and, unless ``open_read``, the read endpoints).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()
            for close in on_shutdown:
                close()

    app = FastAPI(
        title="Stockyard health API",
        version=__version__,
        description="Health checks, metrics and alerts of a Stockyard install.",
        lifespan=lifespan,
    )
    app.state.health = service
    probes, reads = health_routers(service, guard=bearer_guard(token), open_read=open_read)
    app.include_router(probes)
    app.include_router(reads)
    return app


def build_health_service(
    settings: Settings,
    *,
    database: Database,
    extra_checks: Iterable[HealthCheck] = (),
    clock: Clock | None = None,
    metrics: CollectorRegistry | None = None,
) -> HealthService:
    """A service with the built-in checks, its history and alerts in ``database``."""
    return HealthService.from_settings(
        settings,
        history=SqlMetricsHistory(database),
        alerts=SqlAlertStore(database),
        extra_checks=extra_checks,
        clock=clock,
        metrics=metrics,
    )


def health_app(
    settings: Settings,
    *,
    extra_checks: Iterable[HealthCheck] = (),
    clock: Clock | None = None,
    metrics: CollectorRegistry | None = None,
) -> FastAPI:
    """The whole health API of ``settings``: database opened and migrated, service built.

    The service is ``app.state.health``; register more checks on its ``registry``.
    """
    database = open_database(settings)
    service = build_health_service(
        settings, database=database, extra_checks=extra_checks, clock=clock, metrics=metrics
    )
    token = settings.api.token.get_secret_value() if settings.api.token else None
    return create_app(
        service, token=token, open_read=settings.api.open_read, on_shutdown=[database.dispose]
    )
