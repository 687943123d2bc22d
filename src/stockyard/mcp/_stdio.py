"""``stockyard mcp``: the MCP server on stdin/stdout for a desktop assistant, reaching the
running system through ``stockyard.client`` (``STOCKYARD_URL``, ``STOCKYARD_API_KEY``;
defaults: the local hub and the local admin key file)."""

from __future__ import annotations

import anyio
import httpx

from stockyard.client import ApiError, AsyncStockyardClient, StockyardClient, default_url
from stockyard.config import Settings
from stockyard.mcp._backend import Backend
from stockyard.mcp._http import HttpBackend
from stockyard.mcp._safety import McpPolicy
from stockyard.mcp._server import build_server

__all__ = ["NoSystemError", "check_system", "serve_stdio"]


class NoSystemError(RuntimeError):
    """No running system answers (or it refuses the key); ``str()`` says what to do."""


def check_system(url: str | None, key: str | None) -> str:
    """The hub's URL once it answers ``key``; NoSystemError with the reason otherwise."""
    where = (url or default_url()).rstrip("/")
    try:
        httpx.get(f"{where}/livez", timeout=10.0)
    except httpx.HTTPError:
        raise NoSystemError(
            f"no Stockyard system is running at {where} (start one: stockyard up; "
            "or point STOCKYARD_URL at it)"
        ) from None
    if not key:
        raise NoSystemError(
            f"no API key for the Stockyard system at {where}: set STOCKYARD_API_KEY, or start "
            "the system once with `stockyard up` (it writes STOCKYARD_HOME/run/admin.key)"
        )
    try:
        with StockyardClient(where, key=key, timeout=10.0) as client:
            client.health()
    except ApiError as exc:
        raise NoSystemError(f"the Stockyard system at {where} refused: {exc.message}") from None
    return where


def serve_stdio(
    settings: Settings, *, url: str | None, key: str | None, allow_live: bool = False
) -> None:
    """Check that a system answers, then serve MCP on stdio until stdin closes."""
    where = check_system(url, key)
    policy = McpPolicy.from_settings(settings, allow_live=allow_live)

    async def main() -> None:
        async with AsyncStockyardClient(where, key=key) as client:
            backend = HttpBackend(client)

            def backend_for(_ctx: object) -> Backend:
                return backend

            server = build_server(
                backend_for, reader=backend, policy=policy, settings=settings, transport="stdio"
            )
            await server.run_stdio_async()

    anyio.run(main)
