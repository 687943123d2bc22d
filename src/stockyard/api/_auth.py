"""The bearer token of control endpoints, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

__all__ = ["TokenGuard", "bearer_guard"]

TokenGuard = Callable[[HTTPAuthorizationCredentials | None], Awaitable[None]]

_scheme = HTTPBearer(auto_error=False, description="api.token from the settings")


def bearer_guard(token: str | None) -> TokenGuard:
    """A dependency that admits ``Authorization: Bearer <token>`` and nothing else.

    With no token configured, every guarded endpoint answers 403: control stays off until
    an operator sets ``api.token``.
    """
    expected = token.encode() if token else None

    async def guard(
        credentials: HTTPAuthorizationCredentials | None = Depends(_scheme),  # noqa: B008 - FastAPI's documented style
    ) -> None:
        if expected is None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "control endpoints are off: set api.token to use them"
            )
        given = b"" if credentials is None else credentials.credentials.encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return guard
