"""schemathesis against the app's own OpenAPI: no generated request gets a 5xx."""

from __future__ import annotations

import asyncio

import schemathesis
from hypothesis import HealthCheck as HypothesisHealthCheck
from hypothesis import settings
from prometheus_client import CollectorRegistry
from schemathesis.checks import not_a_server_error

from stockyard.api import create_app
from stockyard.health import (
    AlertRule,
    HealthCheck,
    HealthRegistry,
    HealthService,
    HealthStatus,
    Observation,
)
from stockyard.resilience import BreakerRegistry, ErrorRegistry

SERVICE = HealthService(
    registry=HealthRegistry(
        [
            HealthCheck("redis", "responseTime", lambda: Observation.warned("slow", value=1.0)),
            HealthCheck("disk", "free", lambda: Observation.passed(value=5e9, unit="bytes")),
        ]
    ),
    interval=60,
    timeout=1,
    rules=[AlertRule(name="slow", status=HealthStatus.WARN)],
    errors=ErrorRegistry(),
    breakers=BreakerRegistry(),
    metrics=CollectorRegistry(),
)
# The routes only read what the last cycle left; one cycle gives them data and an alert.
# Its status is warn, not fail: a fail is a deliberate 503, which is not what we look for.
asyncio.run(SERVICE.run_now())
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(SERVICE, token="t0ken"))


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HypothesisHealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
