"""Who calls ``/api/v1``: an API key (``Authorization: Bearer`` or ``X-API-Key``), its
scope, and a token bucket per key; errors as ``{"code", "message"}``."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockyard.services import AccessService, Caller, ServiceError
from stockyard.store import KeyScope

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "RateLimiter",
    "caller_dependency",
    "install_error_handlers",
    "is_loopback",
    "require_keys_for_bind",
    "scoped",
]

_bearer = HTTPBearer(auto_error=False, description="an API key: Bearer sy_...")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key: sy_...")


class ApiError(BaseModel):
    """Every error of /api/v1."""

    code: str
    message: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ApiError, "description": "a request the service cannot take as it is"},
    401: {"model": ApiError, "description": "no key, or a wrong or revoked one"},
    403: {"model": ApiError, "description": "the key's scope does not allow this"},
    422: {"model": ApiError, "description": "invalid request, or refused by risk"},
    429: {"model": ApiError, "description": "rate limit of the key reached"},
}


def _error(code: str, message: str, status_code: int, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message}, status_code=status_code, headers=headers or None
    )


class _AuthError(Exception):
    def __init__(self, code: str, message: str, status_code: int, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.headers = headers


def install_error_handlers(app: FastAPI) -> None:
    """``ServiceError``, refused keys, validation errors and HTTP errors under /api/v1 as
    ``{"code", "message"}`` (the health routes keep their own shape)."""

    async def service_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        return _error(exc.code, exc.message, exc.status)

    async def auth_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, _AuthError)
        return _error(exc.code, exc.message, exc.status_code, **exc.headers)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith("/api/v1"):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error("invalid_request", "; ".join(parts) or "invalid request", 422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith("/api/v1"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(code, str(exc.detail), exc.status_code)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(_AuthError, auth_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


class RateLimiter:
    """A token bucket per key: ``rate`` per second, ``burst`` at most. Thread-safe."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> float:
        """0 when a request of ``who`` may go; else seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[who] = (tokens - 1, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return (1 - tokens) / self.rate


def caller_dependency(
    access: AccessService, limiter: RateLimiter, *, via: str = "api"
) -> Callable[..., Awaitable[Caller]]:
    """A dependency answering the ``Caller`` of a request with a valid, active key
    (401 otherwise) within its rate (429 otherwise). Scopes are checked by each route."""

    async def caller(
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008 - FastAPI's documented style
        header: str | None = Depends(_header),
    ) -> Caller:
        presented = header or (bearer.credentials if bearer is not None else None)
        if not presented:
            raise _AuthError(
                "unauthorized",
                "an API key is required (Authorization: Bearer KEY or X-API-Key: KEY)",
                status.HTTP_401_UNAUTHORIZED,
                {"WWW-Authenticate": "Bearer"},
            )
        key = access.verify(presented)
        if key is None:
            raise _AuthError(
                "unauthorized",
                "the API key is unknown or revoked",
                status.HTTP_401_UNAUTHORIZED,
                {"WWW-Authenticate": "Bearer"},
            )
        if not key.rate_exempt:
            wait = limiter.take(key.key_id)
            if wait > 0:
                raise _AuthError(
                    "rate_limited",
                    f"rate limit of key {key.name!r} reached; retry in {wait:.2f} s",
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    {"Retry-After": str(max(1, math.ceil(wait)))},
                )
        return Caller.of_key(key, via=via)

    return caller


def scoped(
    caller: Callable[..., Awaitable[Caller]], needed: KeyScope
) -> Callable[..., Awaitable[Caller]]:
    """``caller`` that also needs ``needed`` (403 otherwise, not audited: a read or an
    admin-only read; control verbs check their scope in the service, audited)."""

    async def dependency(who: Caller = Depends(caller)) -> Caller:  # noqa: B008 - FastAPI's documented style
        try:
            who.require(needed)
        except ServiceError as exc:
            raise _AuthError(exc.code, exc.message, exc.status, {}) from None
        return who

    return dependency


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_keys_for_bind(host: str, access: AccessService) -> None:
    """Refuse (RuntimeError) to serve on a non-loopback ``host`` while no key exists."""
    if not is_loopback(host) and not access.keys.any_active():
        raise RuntimeError(
            f"refusing to serve the API on {host}: it is not a loopback address and no API "
            "key exists (create one: stockyard keys create NAME --scope admin)"
        )
