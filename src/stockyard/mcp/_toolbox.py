"""What every MCP tool shares: the backend of the caller, the policy, the tool's hints, and
service errors turned into tool errors (the assistant reads ``code: message``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import ValidationError

from stockyard.mcp._backend import Backend
from stockyard.mcp._safety import McpPolicy, as_data
from stockyard.services import ServiceError

__all__ = ["DESTRUCTIVE", "READ", "RESEARCH", "STATE", "BackendFor", "Toolbox", "invalid"]

T = TypeVar("T")
BackendFor = Callable[[Context], Backend]
"""The backend for the request in ``Context`` (its caller's key on the hub's /mcp)."""

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
STATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
)
RESEARCH = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)


def invalid(exc: ValidationError) -> ToolError:
    """A tool error naming what is wrong with the arguments."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return ToolError("invalid_request: " + "; ".join(parts))


@dataclass(frozen=True, slots=True, kw_only=True)
class Toolbox:
    """The tools' shared parts: ``backend_for`` the caller, the ``policy``, and how this
    server is reached (``stdio`` or ``http``)."""

    backend_for: BackendFor
    policy: McpPolicy
    transport: str

    async def call(self, ctx: Context, work: Callable[[Backend], Awaitable[T]]) -> T:
        """``work`` on the caller's backend; a ServiceError becomes a ToolError."""
        try:
            return await work(self.backend_for(ctx))
        except ServiceError as exc:
            raise ToolError(f"{exc.code}: {as_data(exc.message)}") from None
