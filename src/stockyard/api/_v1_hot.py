"""``HotReads``: ``GET /api/v1/positions`` answered in front of FastAPI's router.

The most frequent read (dashboards and bots poll it) spent most of its time in FastAPI's
route matching over every route and in solving its five nested dependencies, not in the
read. Here the same checks run in one function: the key (``AccessService.verify``, its
cache), the ``read`` scope, the key's rate; the positions come from ``TradingService``
and their JSON is encoded once per view (a node's read snapshot answers the same view to
many requests). Anything else, a query string (``?node=``) or a request that would be
refused (no key, a wrong one, a scope too small, a rate reached) goes on to the app, so
every error keeps its one shape and the route keeps its OpenAPI entry.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockyard.api._v1_auth import RateLimiter
from stockyard.services import AccessService, PositionsView, ServiceError, TradingService
from stockyard.store import KeyScope

__all__ = ["HotReads"]

_PATH = "/api/v1/positions"
_JSON = (b"content-type", b"application/json")


def presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key of ``X-API-Key`` or else ``Authorization: Bearer``, read as FastAPI's
    security dependencies read them: the first header of each name only (an empty or
    non-Bearer first one counts as none); None when neither gives a key."""
    header: bytes | None = None
    authorization: bytes | None = None
    for name, value in headers:
        if name == b"x-api-key" and header is None:
            header = value
        elif name == b"authorization" and authorization is None:
            authorization = value
    if header:
        return header.decode("latin-1")
    if authorization:
        scheme, _, credentials = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return credentials
    return None


class HotReads:
    """ASGI middleware answering ``GET /api/v1/positions`` (no query) for a valid ``read``
    key within its rate; every other request goes to ``app``."""

    def __init__(
        self, app: ASGIApp, *, access: AccessService, trading: TradingService, limiter: RateLimiter
    ) -> None:
        self.app = app
        self._access = access
        self._trading = trading
        self._limiter = limiter
        self._encoded: tuple[PositionsView, bytes] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != _PATH
            or scope["method"] != "GET"
            or scope["query_string"]
            or not self._admitted(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        try:
            body = self._json(await self._trading.positions())
            status = 200
        except ServiceError as exc:  # e.g. no node: the shape install_error_handlers answers
            body = _error_json(exc)
            status = exc.status
        await send(_start(status, body))
        await send({"type": "http.response.body", "body": body})

    def _admitted(self, headers: list[tuple[bytes, bytes]]) -> bool:
        presented = presented_key(headers)
        if presented is None:
            return False
        key = self._access.verify(presented)
        if key is None or not key.scope.allows(KeyScope.READ):
            return False
        # A refused take leaves the bucket as it was: the app's own check refuses it again.
        return key.rate_exempt or self._limiter.take(key.key_id) == 0

    def _json(self, view: PositionsView) -> bytes:
        encoded = self._encoded
        if encoded is not None and encoded[0] is view:
            return encoded[1]
        body = view.model_dump_json().encode()
        self._encoded = (view, body)
        return body


def _start(status: int, body: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [_JSON, (b"content-length", str(len(body)).encode())],
    }


def _error_json(exc: ServiceError) -> bytes:
    error = {"code": exc.code, "message": exc.message}
    return json.dumps(error, ensure_ascii=False, separators=(",", ":")).encode()
