"""The System service: health, errors, circuit breakers, alerts and the component logs."""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from stockyard.health import AlertState, HealthService
from stockyard.obs import COMPONENTS, Redactor
from stockyard.services._access import Auditor, Caller
from stockyard.services._errors import ServiceError
from stockyard.store import KeyScope

__all__ = ["LogTail", "SystemService"]

_LOG_NAMES = frozenset({*COMPONENTS, "trading_system", "errors"})


class LogTail(BaseModel):
    """The last lines of one component's log, with secrets redacted."""

    model_config = ConfigDict(frozen=True)

    component: str
    lines: list[str]


class SystemService:
    """Reads of the system's health and the few controls on it (breakers, alerts)."""

    def __init__(
        self,
        health: HealthService,
        *,
        auditor: Auditor,
        log_dir: Path | None,
        redactor: Redactor | None = None,
    ) -> None:
        self.health_service = health
        self.auditor = auditor
        self.log_dir = log_dir
        self.redactor = redactor or Redactor(
            v for k, v in os.environ.items() if Redactor.is_secret_key(k)
        )

    def health(self) -> dict[str, object]:
        """Every check's latest result (``application/health+json`` as a dict)."""
        body: dict[str, object] = orjson.loads(self.health_service.detailed_json())
        return body

    def errors(self) -> dict[str, object]:
        """Top errors by category, recent errors, breakers and recovery actions."""
        return self.health_service.errors()

    def breakers(self) -> dict[str, dict[str, object]]:
        """Each circuit breaker's state: the hub's, and each node's as ``node@NAME:BREAKER``."""
        return self.health_service.breaker_states()

    async def reset_breaker(self, name: str, *, caller: Caller) -> dict[str, object]:
        """Close a breaker by hand (admin), the hub's or a node's (``node@NAME:BREAKER``)."""

        async def work() -> dict[str, object]:
            state = await self.health_service.reset_breaker(name)
            if state is None:
                raise ServiceError("unknown_breaker", f"no breaker {name!r}", status=404)
            return state

        return await self.auditor.call(
            caller, "breakers.reset", {"name": name}, work, scope=KeyScope.ADMIN
        )

    async def alerts(
        self, *, state: AlertState | None = None, limit: int = 100
    ) -> list[dict[str, object]]:
        """Alert history, newest first."""
        found = await run_in_threadpool(self.health_service.alerts, state=state, limit=limit)
        return [a.to_dict() for a in found]

    async def acknowledge(self, alert_id: str, *, caller: Caller) -> dict[str, object]:
        """Acknowledge an alert (trade)."""

        async def work() -> dict[str, object]:
            alert = await run_in_threadpool(self.health_service.acknowledge, alert_id)
            if alert is None:
                raise ServiceError("unknown_alert", f"no alert {alert_id!r}", status=404)
            return alert.to_dict()

        return await self.auditor.call(caller, "alerts.ack", {"alert_id": alert_id}, work)

    def logs(self, component: str, *, lines: int = 100) -> LogTail:
        """The last ``lines`` of ``component``'s log file, secrets redacted."""
        if component not in _LOG_NAMES:
            known = ", ".join(sorted(_LOG_NAMES))
            raise ServiceError(
                "unknown_component", f"no log {component!r} (known: {known})", status=404
            )
        if self.log_dir is None:
            return LogTail(component=component, lines=[])
        path = self.log_dir / f"{component}.log"
        if not path.exists():
            return LogTail(component=component, lines=[])
        with path.open(encoding="utf-8", errors="replace") as handle:
            tail = deque(handle, maxlen=max(1, min(lines, 10_000)))
        return LogTail(
            component=component, lines=[self.redactor.text(line.rstrip("\n")) for line in tail]
        )
