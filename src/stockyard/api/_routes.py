"""The health routes: each parses, calls one ``HealthService`` method, shapes the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from stockyard.api._auth import TokenGuard
from stockyard.core import WallClock
from stockyard.health import AlertSeverity, AlertState, HealthService, HealthStatus, parse_since

__all__ = ["HEALTH_JSON", "health_routers"]

HEALTH_JSON = "application/health+json"
_HEALTH_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {HEALTH_JSON: {}}, "description": "pass or warn"},
    503: {"content": {HEALTH_JSON: {}}, "description": "fail"},
}


def _json(data: object, code: int = 200, media_type: str = "application/json") -> Response:
    return Response(orjson.dumps(data), status_code=code, media_type=media_type)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_since(text, now=WallClock().now())
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


SinceQuery = Annotated[
    str | None,
    Query(description="a duration back from now (15m, 2h, 7d) or an ISO 8601 time"),
]
LimitQuery = Annotated[int, Query(ge=1, le=10_000, description="at most this many")]


def _code(status_: HealthStatus) -> int:
    return 503 if status_ is HealthStatus.FAIL else 200


def _probes(service: HealthService) -> APIRouter:
    """``/health``, ``/livez`` and ``/readyz``: always open."""
    probes = APIRouter(tags=["probes"])

    @probes.get("/health", response_class=Response, responses=_HEALTH_DOC)
    async def health() -> Response:
        """The overall status only: 200 for pass or warn, 503 for fail."""
        return Response(service.summary_json(), _code(service.status()), media_type=HEALTH_JSON)

    @probes.get("/livez", response_class=Response)
    async def livez() -> Response:
        """200 while the checks run on schedule."""
        ok, reason = service.live()
        return _json({"status": "pass" if ok else "fail", "output": reason}, 200 if ok else 503)

    @probes.get("/readyz", response_class=Response)
    async def readyz() -> Response:
        """200 once the checks have run and no required check fails."""
        ok, reason = service.ready()
        return _json({"status": "pass" if ok else "fail", "output": reason}, 200 if ok else 503)

    return probes


def health_routers(
    service: HealthService, *, guard: TokenGuard, open_read: bool
) -> tuple[APIRouter, APIRouter]:
    """(probes, read and control) routers over ``service``.

    The probes (``/health``, ``/livez``, ``/readyz``) are always open; the rest of the
    reads need the token unless ``open_read``; control endpoints always need it.
    """
    probes = _probes(service)
    reads = APIRouter(tags=["health"], dependencies=[] if open_read else [Depends(guard)])
    control = [Depends(guard)]

    @reads.get("/health/detailed", response_class=Response, responses=_HEALTH_DOC)
    async def detailed() -> Response:
        """Every check, ``application/health+json`` (IETF health-check draft)."""
        body = service.detailed_json()
        return Response(body, _code(service.status()), media_type=HEALTH_JSON)

    @reads.get("/health/components/{name}", response_class=Response)
    async def component(name: Annotated[str, Path(max_length=200)]) -> Response:
        """One component's checks; 404 lists the known names."""
        found = service.component(name)
        if found is None:
            known = service.component_names()
            return _json({"detail": f"unknown component {name!r}", "known": known}, 404)
        return _json(found, 503 if found["status"] == "fail" else 200, HEALTH_JSON)

    @reads.get("/health/metrics", response_class=Response)
    async def metrics(
        since: SinceQuery = None,
        component: Annotated[str | None, Query(max_length=200)] = None,
        limit: LimitQuery = 1000,
    ) -> Response:
        """Sampled metric history, oldest first."""
        start = _since(since)
        samples = await run_in_threadpool(
            service.metrics, since=start, component=component, limit=limit
        )
        return _json({"count": len(samples), "samples": [s.to_dict() for s in samples]})

    @reads.get("/health/alerts", response_class=Response)
    async def alerts(
        severity: AlertSeverity | None = None,
        state: AlertState | None = None,
        since: SinceQuery = None,
        limit: LimitQuery = 100,
    ) -> Response:
        """Recent alerts, newest first."""
        start = _since(since)
        found = await run_in_threadpool(
            service.alerts, severity=severity, since=start, state=state, limit=limit
        )
        return _json({"count": len(found), "alerts": [a.to_dict() for a in found]})

    @reads.get("/health/errors", response_class=Response)
    async def errors() -> Response:
        """The error registry, circuit-breaker states and recovery actions."""
        return _json(service.errors())

    @reads.get("/metrics", response_class=Response, tags=["metrics"])
    async def prometheus() -> Response:
        """Prometheus text format: this process's registry, every node process's merged in
        (labelled ``process``)."""
        return Response(service.prometheus_text(), media_type=CONTENT_TYPE_LATEST)

    @reads.post("/health/checks/run", response_class=Response, dependencies=control)
    async def run_checks() -> Response:
        """Run every check now (bearer token); answers the new detailed report."""
        report = await service.run_now()
        return Response(service.detailed_json(), _code(report.status), media_type=HEALTH_JSON)

    @reads.post("/health/alerts/{alert_id}/ack", response_class=Response, dependencies=control)
    async def acknowledge(alert_id: Annotated[str, Path(max_length=64)]) -> Response:
        """Acknowledge an alert (bearer token); 404 when unknown."""
        alert = await run_in_threadpool(service.acknowledge, alert_id)
        if alert is None:
            return _json({"detail": f"no alert {alert_id!r}"}, 404)
        return _json(alert.to_dict())

    return probes, reads
