"""``[processes.NAME]``: one supervised process of the system (``stockyard.orchestrator``).

A table entry named like a default one (``hub``, ``node@sandbox``, ...) replaces the fields it
gives and keeps the rest; a new name adds a process. Frozen, unknown keys rejected.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from stockyard.config._sections import Section

__all__ = ["ProcessLimits", "ProcessSettings", "ReadinessProbe"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$")
_SIGNALS = ("TERM", "INT", "QUIT", "KILL", "HUP", "USR1", "USR2")


def check_process_name(name: str) -> str:
    """``name`` when it is a valid process name (letters, digits, ``_ . @ -``), else ValueError."""
    if not _NAME.match(name):
        raise ValueError(
            f"process name {name!r} must be 1-63 letters, digits or _ . @ - "
            "(starting with a letter or digit)"
        )
    return name


class ReadinessProbe(Section):
    """When a started process counts as ready: exactly one of ``http``, ``unix``, ``log``."""

    http: str | None = Field(
        default=None,
        description="URL answering below 500 when ready, e.g. http://127.0.0.1:5555/readyz",
    )
    unix: str | None = Field(default=None, description="Unix socket path accepting connections")
    log: str | None = Field(default=None, description="text the process prints once ready")
    timeout_s: float = Field(default=30.0, gt=0, description="give up waiting after this long")
    period_s: float = Field(default=0.02, gt=0, description="seconds between two tries")

    @model_validator(mode="after")
    def _one_kind(self) -> ReadinessProbe:
        given = [k for k in ("http", "unix", "log") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(f"give one of http, unix or log, not {' and '.join(given)}")
        return self

    @property
    def kind(self) -> Literal["http", "unix", "log", "none"]:
        """Which probe this is (``none``: ready as soon as it runs)."""
        if self.http:
            return "http"
        if self.unix:
            return "unix"
        return "log" if self.log else "none"


class ProcessLimits(Section):
    """Resource limits, judged on the process and its children together."""

    cpu_percent: float | None = Field(default=None, gt=0, description="CPU % (100 = one core)")
    memory_mb: float | None = Field(default=None, gt=0, description="resident memory, MiB")
    action: Literal["alert", "restart"] = Field(
        default="alert", description="on a breach: raise an alert, or restart the process too"
    )


class ProcessSettings(Section):
    """One process of the table; every field optional so an entry can override a default."""

    command: str | None = Field(default=None, description="program; default: this stockyard")
    args: tuple[str, ...] | None = Field(default=None, description="its arguments")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment")
    enabled: bool = True
    critical: bool | None = Field(default=None, description="health fails when not RUNNING")
    autorestart: Literal["always", "unexpected", "never"] | None = None
    startsecs: float | None = Field(default=None, ge=0, description="alive this long = started")
    startretries: int | None = Field(default=None, ge=0, le=100)
    stopsignal: str | None = None
    stopwaitsecs: float | None = Field(default=None, gt=0, description="then SIGKILL")
    depends_on: tuple[str, ...] | None = None
    readiness: ReadinessProbe | None = None
    limits: ProcessLimits | None = None

    @field_validator("stopsignal")
    @classmethod
    def _signal(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.upper().removeprefix("SIG")
        if name not in _SIGNALS:
            raise ValueError(f"must be one of {', '.join(_SIGNALS)}, got {value!r}")
        return name

    @field_validator("depends_on")
    @classmethod
    def _names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            for name in value:
                check_process_name(name)
        return value
