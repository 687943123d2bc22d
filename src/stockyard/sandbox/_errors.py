"""Alpaca's error shape: ``{"code": int, "message": str}`` with the HTTP status beside it."""

from __future__ import annotations

import orjson
from starlette.responses import Response

__all__ = ["ALPACA_CODES", "SandboxHTTPError", "error_body", "error_response"]

# Alpaca's body codes are the HTTP status followed by five digits; these are the ones its
# trading API documents (40010001 is "the request body is invalid").
ALPACA_CODES: dict[int, int] = {
    400: 40010000,
    401: 40110000,
    403: 40310000,
    404: 40410000,
    405: 40510000,
    413: 41310000,
    422: 40010001,
    429: 42910000,
    500: 50010000,
    502: 50210000,
    503: 50310000,
    504: 50410000,
}


class SandboxHTTPError(Exception):
    """An answer other than 2xx: the status, and the message a client will read."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_body(status: int, message: str) -> bytes:
    """The JSON body Alpaca sends with a non-2xx status."""
    code = ALPACA_CODES.get(status, status * 100000)
    return orjson.dumps({"code": code, "message": message})


def error_response(status: int, message: str, *, headers: dict[str, str] | None = None) -> Response:
    """A complete error response."""
    return Response(
        error_body(status, message),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
