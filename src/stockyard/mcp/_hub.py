"""``/mcp`` on the hub: the MCP server over streamable HTTP, in the hub's process, calling
the hub's services as the API key of each request (``X-API-Key`` or ``Authorization:
Bearer``), loopback clients only unless ``mcp.allow_remote``."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from anyio import to_thread
from mcp.server.mcpserver import Context, MCPServer
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from stockyard.config import Settings
from stockyard.mcp._backend import Backend, LocalBackend
from stockyard.mcp._safety import McpPolicy
from stockyard.mcp._server import build_server
from stockyard.mcp._toolbox import BackendFor
from stockyard.services import AccessService, Caller, ServiceError, Services
from stockyard.store import KeyScope

__all__ = ["MCP_PATH", "mount_mcp"]

MCP_PATH = "/mcp"
_CALLER = "stockyard.mcp.caller"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _presented(scope: Scope) -> str | None:
    headers: dict[str, str] = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    if headers.get("x-api-key"):
        return headers["x-api-key"].strip()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"code": code, "message": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _KeyGate:
    """An ASGI app: the request's key checked (and its caller kept in the scope), then the
    MCP session manager."""

    def __init__(self, server: MCPServer, access: AccessService, *, allow_remote: bool) -> None:
        self.server = server
        self.access = access
        self.allow_remote = allow_remote

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if not self.allow_remote and not _loopback(client[0] if client else ""):
            await _refuse(
                send, 403, "forbidden", "/mcp answers this machine only (mcp.allow_remote)"
            )
            return
        presented = _presented(scope)
        if not presented:
            message = "an API key is required (Authorization: Bearer KEY or X-API-Key: KEY)"
            await _refuse(send, 401, "unauthorized", message)
            return
        key = await to_thread.run_sync(self.access.verify, presented)
        if key is None:
            await _refuse(send, 401, "unauthorized", "the API key is unknown or revoked")
            return
        scope[_CALLER] = Caller.of_key(key, via="mcp")
        await self.server.session_manager.handle_request(scope, receive, send)


def _backend_for(services: Services) -> tuple[LocalBackend, BackendFor]:
    reader = LocalBackend(
        services, Caller(key_id=None, name="mcp-resources", scope=KeyScope.READ, via="mcp")
    )

    def backend_for(ctx: Context) -> Backend:
        request = ctx.request_context.request
        scope = getattr(request, "scope", None)
        caller = scope.get(_CALLER) if isinstance(scope, dict) else None
        if not isinstance(caller, Caller):
            raise ServiceError("unauthorized", "no API key came with this request", status=401)
        return LocalBackend(services, caller)

    return reader, backend_for


def mount_mcp(app: Starlette, services: Services, settings: Settings) -> MCPServer | None:
    """Serve MCP at ``/mcp`` on ``app`` (the hub, before it starts) over ``services``; the
    app's lifespan runs the MCP session manager. None when ``mcp.enabled`` is off."""
    if not settings.mcp.enabled:
        return None
    reader, backend_for = _backend_for(services)
    server = build_server(
        backend_for,
        reader=reader,
        policy=McpPolicy.from_settings(settings),
        settings=settings,
        transport="http",
    )
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        host=settings.health.host,
    )
    gate = _KeyGate(server, services.access, allow_remote=settings.mcp.allow_remote)
    app.router.routes.append(
        Route(MCP_PATH, endpoint=gate, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    )
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(owner: Starlette) -> AsyncIterator[Any]:
        async with outer(owner) as state, server.session_manager.run():
            yield state

    app.router.lifespan_context = lifespan
    return server
