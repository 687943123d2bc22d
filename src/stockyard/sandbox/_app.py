"""The one ASGI app: trading REST, market-data REST, both streams and the admin endpoints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from stockyard.execution import ExchangeError
from stockyard.obs import get_logger
from stockyard.sandbox._account_routes import account_routes
from stockyard.sandbox._admin_routes import admin_routes
from stockyard.sandbox._clock_routes import clock_routes
from stockyard.sandbox._errors import SandboxHTTPError, error_response
from stockyard.sandbox._http import (
    AuthMiddleware,
    FaultMiddleware,
    RateLimitMiddleware,
)
from stockyard.sandbox._market_routes import market_routes
from stockyard.sandbox._reference_routes import reference_routes
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._trading_routes import trading_routes

__all__ = ["create_app"]

_log = get_logger("sandbox")


async def _sandbox_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxHTTPError)
    return error_response(exc.status, exc.message, headers=exc.headers or None)


async def _exchange_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ExchangeError)
    request.app.state.sandbox.mark_dirty()
    return error_response(exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "endpoint not found" if exc.status_code == 404 else str(exc.detail).lower()
    return error_response(exc.status_code, message)


async def _internal_error(request: Request, exc: Exception) -> Response:
    _log.error("sandbox request failed", path=request.url.path, error=repr(exc))
    return error_response(500, "internal server error")


def _stream_routes(sandbox: Sandbox) -> list[BaseRoute]:
    async def iex(ws: WebSocket) -> None:
        await sandbox.md_hub.serve(ws, crypto=False)

    async def sip(ws: WebSocket) -> None:
        await sandbox.md_hub.serve(ws, crypto=False, sip=True)

    async def crypto(ws: WebSocket) -> None:
        await sandbox.md_hub.serve(ws, crypto=True)

    async def trading(ws: WebSocket) -> None:
        await sandbox.trade_hub.serve(ws)

    return [
        WebSocketRoute("/v2/iex", iex),
        WebSocketRoute("/v2/sip", sip),
        WebSocketRoute("/v1beta3/crypto/us", crypto),
        WebSocketRoute("/stream", trading),
    ]


def create_app(sandbox: Sandbox) -> Starlette:
    """The sandbox's ASGI app; its lifespan runs the replay and the state saver."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(sandbox.run(), name="sandbox-replay"),
            asyncio.create_task(sandbox.persist(), name="sandbox-state"),
        ]
        try:
            yield
        finally:
            sandbox.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = Starlette(
        routes=[
            *trading_routes(),
            *account_routes(),
            *clock_routes(),
            *reference_routes(),
            *market_routes(),
            *admin_routes(),
            *_stream_routes(sandbox),
        ],
        middleware=[
            Middleware(FaultMiddleware, faults=lambda: sandbox.faults),
            Middleware(AuthMiddleware, authenticate=sandbox.authenticate),
            Middleware(RateLimitMiddleware, limiter=sandbox.rate_limiter),
        ],
        exception_handlers={
            SandboxHTTPError: _sandbox_error,
            ExchangeError: _exchange_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
