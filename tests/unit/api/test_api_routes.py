from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from stockyard.api import HEALTH_JSON, create_app
from stockyard.health import (
    AlertRule,
    AlertSeverity,
    HealthCheck,
    HealthRegistry,
    HealthService,
    HealthStatus,
    Observation,
)
from stockyard.resilience import BreakerRegistry, ErrorRegistry

TOKEN = "s3cret-token"


class Switch:
    def __init__(self) -> None:
        self.status = HealthStatus.PASS

    def __call__(self) -> Observation:
        return Observation(self.status, 2.0, "ms", f"switch {self.status.value}")


def _service(*checks: HealthCheck, timeout: float = 1.0) -> HealthService:
    return HealthService(
        registry=HealthRegistry(checks),
        interval=60,
        timeout=timeout,
        rules=[AlertRule(name="down", severity=AlertSeverity.CRITICAL)],
        errors=ErrorRegistry(),
        breakers=BreakerRegistry(),
        metrics=CollectorRegistry(),
    )


def _serve(
    service: HealthService,
    scenario: Callable[[httpx.AsyncClient], Awaitable[None]],
    **options: object,
) -> None:
    """Run ``scenario`` against the app over ASGI, with the service started around it."""
    app: FastAPI = create_app(service, **options)  # type: ignore[arg-type]

    async def main() -> None:
        await service.start()
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await scenario(client)
        finally:
            await service.stop()

    asyncio.run(main())


def test_health_answers_200_for_pass_and_warn_and_503_for_fail() -> None:
    switch = Switch()
    service = _service(HealthCheck("redis", "responseTime", switch))

    async def scenario(client: httpx.AsyncClient) -> None:
        for status, code in ((HealthStatus.PASS, 200), (HealthStatus.WARN, 200)):
            switch.status = status
            await service.run_now()
            response = await client.get("/health")
            assert (response.status_code, response.json()) == (code, {"status": status.value})
            assert response.headers["content-type"] == HEALTH_JSON
        switch.status = HealthStatus.FAIL
        await service.run_now()
        assert (await client.get("/health")).status_code == 503
        assert (await client.get("/health/detailed")).status_code == 503
        assert (await client.get("/readyz")).json() == {
            "status": "fail",
            "output": "failing: redis:responseTime",
        }

    _serve(service, scenario)


def test_detailed_is_ietf_health_json_keyed_component_measurement() -> None:
    service = _service(HealthCheck("redis", "responseTime", Switch(), "datastore"))

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.get("/health/detailed")
        assert response.headers["content-type"] == HEALTH_JSON
        body = response.json()
        assert body["status"] == "pass"
        assert body["version"]
        assert body["serviceId"].startswith("stockyard@")
        (entry,) = body["checks"]["redis:responseTime"]
        assert entry["componentId"] == "redis"
        assert entry["componentType"] == "datastore"
        assert (entry["observedValue"], entry["observedUnit"]) == (2.0, "ms")
        assert entry["status"] == "pass"
        assert entry["output"] == "switch pass"
        assert "time" in entry

    _serve(service, scenario)


def test_a_hung_check_does_not_block_health_while_its_cycle_runs() -> None:
    release = threading.Event()

    def hangs() -> Observation:
        release.wait(30)
        return Observation.passed()

    switch = Switch()
    service = _service(
        HealthCheck("redis", "responseTime", switch), HealthCheck("stuck", "x", hangs, timeout=5)
    )
    release.set()  # let the first cycle (run by start) pass

    async def scenario(client: httpx.AsyncClient) -> None:
        release.clear()
        cycle = asyncio.create_task(service.run_now())
        try:
            for _ in range(20):
                began = time.monotonic()
                response = await client.get("/health")
                assert response.status_code == 200
                assert time.monotonic() - began < 0.5
            assert not cycle.done()  # the hung check is still holding its cycle
        finally:
            release.set()
            await cycle

    _serve(service, scenario)


def test_an_unknown_component_is_404_and_lists_the_known_names() -> None:
    service = _service(
        HealthCheck("redis", "responseTime", Switch()), HealthCheck("disk", "free", Switch())
    )

    async def scenario(client: httpx.AsyncClient) -> None:
        found = await client.get("/health/components/redis")
        assert found.status_code == 200
        assert list(found.json()["checks"]) == ["redis:responseTime"]
        missing = await client.get("/health/components/nope")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "unknown component 'nope'", "known": ["disk", "redis"]}

    _serve(service, scenario)


def test_metrics_history_filters_and_refuses_a_bad_since() -> None:
    service = _service(
        HealthCheck("redis", "responseTime", Switch()), HealthCheck("disk", "free", Switch())
    )

    async def scenario(client: httpx.AsyncClient) -> None:
        body = (await client.get("/health/metrics", params={"since": "1h"})).json()
        assert body["count"] == len(body["samples"]) == 6
        only = await client.get("/health/metrics", params={"component": "disk", "limit": 2})
        assert {s["component"] for s in only.json()["samples"]} == {"disk"}
        assert only.json()["count"] == 2
        bad = await client.get("/health/metrics", params={"since": "last tuesday"})
        assert bad.status_code == 422
        assert "neither a duration" in bad.json()["detail"]

    _serve(service, scenario)


def test_alerts_are_listed_by_severity_and_the_errors_endpoint_shows_the_registry() -> None:
    switch = Switch()
    switch.status = HealthStatus.FAIL
    service = _service(HealthCheck("redis", "responseTime", switch))

    async def scenario(client: httpx.AsyncClient) -> None:
        (alert,) = (await client.get("/health/alerts")).json()["alerts"]
        assert alert["rule"] == "down"
        assert alert["state"] == "firing"
        none = await client.get("/health/alerts", params={"severity": "info"})
        assert none.json()["count"] == 0
        assert (await client.get("/health/alerts", params={"severity": "bad"})).status_code == 422
        errors = (await client.get("/health/errors")).json()
        assert {"total", "by_category", "top_errors", "recovery_actions", "breakers"} <= set(errors)

    _serve(service, scenario)


def test_livez_readyz_metrics_and_docs_are_served() -> None:
    service = _service(HealthCheck("redis", "responseTime", Switch()))

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/livez")).json() == {"status": "pass", "output": "ok"}
        assert (await client.get("/readyz")).status_code == 200
        metrics = await client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        for name in ("stockyard_health_status", "stockyard_health_check_status"):
            assert name in metrics.text
        assert (await client.get("/docs")).status_code == 200
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert {"/health", "/health/detailed", "/health/components/{name}", "/metrics"} <= set(
            paths
        )

    _serve(service, scenario)


def test_control_needs_the_configured_bearer_token() -> None:
    switch = Switch()
    switch.status = HealthStatus.FAIL
    service = _service(HealthCheck("redis", "responseTime", switch))

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.post("/health/checks/run")).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert (await client.post("/health/checks/run", headers=wrong)).status_code == 401
        right = {"authorization": f"Bearer {TOKEN}"}
        ran = await client.post("/health/checks/run", headers=right)
        assert ran.status_code == 503
        assert ran.json()["status"] == "fail"
        (alert,) = (await client.get("/health/alerts")).json()["alerts"]
        url = f"/health/alerts/{alert['id']}/ack"
        assert (await client.post(url)).status_code == 401
        acked = await client.post(url, headers=right)
        assert acked.json()["acknowledged_at"] is not None
        missing = await client.post("/health/alerts/nope/ack", headers=right)
        assert missing.status_code == 404

    _serve(service, scenario, token=TOKEN)


def test_without_a_configured_token_control_is_off() -> None:
    service = _service(HealthCheck("redis", "responseTime", Switch()))

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/health/checks/run", headers={"authorization": "Bearer anything"}
        )
        assert response.status_code == 403
        assert "set api.token" in response.json()["detail"]

    _serve(service, scenario)


def test_closed_reads_need_the_token_but_the_probes_stay_open() -> None:
    service = _service(HealthCheck("redis", "responseTime", Switch()))

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/health/detailed")).status_code == 401
        assert (await client.get("/metrics")).status_code == 401
        right = {"authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/health/detailed", headers=right)).status_code == 200
        for probe in ("/health", "/livez", "/readyz"):
            assert (await client.get(probe)).status_code == 200

    _serve(service, scenario, token=TOKEN, open_read=False)
