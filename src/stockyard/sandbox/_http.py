"""What every route shares: JSON answers, bounded bodies, typed query parameters, and the
ASGI layers in front of the routes (injected faults, then authentication)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from stockyard.sandbox._errors import SandboxHTTPError, error_response
from stockyard.sandbox._faults import FaultInjector

__all__ = [
    "MAX_BODY_BYTES",
    "AuthMiddleware",
    "FaultMiddleware",
    "RateLimitMiddleware",
    "RateLimiter",
    "account_of",
    "json_body",
    "json_response",
    "query_bool",
    "query_datetime",
    "query_decimal",
    "query_int",
]

MAX_BODY_BYTES = 64 * 1024  # an order is a few hundred bytes
_API_PREFIXES = ("/v1", "/v2", "/v3")  # /v1beta1, /v1beta3 too


def json_response(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def json_body(request: Request) -> dict[str, object]:
    """The request's JSON object, or a 400/413 that says what is wrong with it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise SandboxHTTPError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SandboxHTTPError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise SandboxHTTPError(400, "request body format is invalid: not JSON") from None
    if not isinstance(data, dict):
        raise SandboxHTTPError(400, "request body format is invalid: expected a JSON object")
    return data


def account_of(request: Request) -> str:
    account: str = request.scope["state"]["account_id"]
    return account


def query_int(request: Request, name: str, *, default: int, lo: int, hi: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise SandboxHTTPError(422, f"{name} must be an integer, got {text!r}") from None
    if not lo <= value <= hi:
        raise SandboxHTTPError(422, f"{name} must be between {lo} and {hi}, got {value}")
    return value


def query_decimal(request: Request, name: str) -> Decimal | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SandboxHTTPError(422, f"{name} must be a number, got {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise SandboxHTTPError(422, f"{name} must be a number > 0, got {text!r}")
    return value


def query_bool(request: Request, name: str, *, default: bool = False) -> bool:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise SandboxHTTPError(422, f"{name} must be true or false, got {text!r}")


def parse_time(name: str, text: str) -> datetime:
    """RFC 3339 (``Z`` or an offset) or a date (midnight UTC)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise SandboxHTTPError(422, f"{name} must be an RFC 3339 time, got {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def query_datetime(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    return None if text is None or text == "" else parse_time(name, text)


class FaultMiddleware:
    """Injected faults on the Alpaca API (never on ``/sandbox/``): latency, errors,
    timeouts (hang, then 504) and rate limits (429 with ``Retry-After``)."""

    def __init__(self, app: ASGIApp, *, faults: Callable[[], FaultInjector]) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_API_PREFIXES):
            await self.app(scope, receive, send)
            return
        decision = self.faults().http()
        if decision.kind == "rate_limited":
            headers = {"Retry-After": str(decision.retry_after_s)}
            await error_response(429, "too many requests", headers=headers)(scope, receive, send)
            return
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.kind == "timeout":
            await error_response(504, "gateway timeout")(scope, receive, send)
        elif decision.kind == "error":
            message = f"sandbox: injected {decision.status} error"
            await error_response(decision.status, message)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class AuthMiddleware:
    """``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` on every HTTP call to the API and the
    admin endpoints; the account they trade goes into ``scope["state"]``."""

    def __init__(self, app: ASGIApp, *, authenticate: Callable[[str, str], str | None]) -> None:
        self.app = app
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith((*_API_PREFIXES, "/sandbox")):
            await self.app(scope, receive, send)
            return
        key = secret = ""
        for name, value in scope["headers"]:
            if name == b"apca-api-key-id":
                key = value.decode("latin-1")
            elif name == b"apca-api-secret-key":
                secret = value.decode("latin-1")
        account = self.authenticate(key, secret) if key and secret else None
        if account is None:
            await error_response(401, "request is not authorized")(scope, receive, send)
            return
        scope.setdefault("state", {})["account_id"] = account
        await self.app(scope, receive, send)


class RateLimiter:
    """Alpaca's REST limit: ``per_minute`` requests per key in each minute of wall time
    (clients' real pace, not the replay's); ``0`` means no limit."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.clock = clock  # wall time in seconds; tests inject a fixed one
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window start, used)

    def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """Whether ``key`` may make a request now, and Alpaca's ``X-RateLimit-*`` headers."""
        now = self.clock()
        start = int(now // 60 * 60)
        with self._lock:
            window, used = self._windows.get(key, (start, 0))
            if window != start:
                window, used = start, 0
            allowed = used < self.per_minute
            used += allowed
            self._windows[key] = (window, used)
        headers = {
            "X-RateLimit-Limit": str(self.per_minute),
            "X-RateLimit-Remaining": str(self.per_minute - used),
            "X-RateLimit-Reset": str(window + 60),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(window + 60 - now)))
        return allowed, headers


class RateLimitMiddleware:
    """429 ``too many requests`` past the limit, and ``X-RateLimit-*`` headers on every
    answer of the Alpaca API (never on ``/sandbox/``), as Alpaca sends them."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not self.limiter.per_minute
            or not path.startswith(_API_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        key = next(
            (v.decode("latin-1") for n, v in scope["headers"] if n == b"apca-api-key-id"), ""
        )
        allowed, headers = self.limiter.take(key)
        if not allowed:
            await error_response(429, "too many requests", headers=headers)(scope, receive, send)
            return
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *raw]}  # type: ignore[misc]
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]
