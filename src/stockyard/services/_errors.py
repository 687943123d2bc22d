"""The services' one error: a machine ``code``, a human ``message`` and the HTTP status a
face should answer with (the REST API sends ``{"code", "message"}``)."""

from __future__ import annotations

__all__ = ["ServiceError"]


class ServiceError(Exception):
    """A request a service refused or could not do. ``status``: 400 bad input, 403 not
    allowed, 404 unknown, 409 conflicts with the state, 422 refused by risk, 503 the part
    needed is not running."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
