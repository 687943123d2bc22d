"""The hub merges other parts' health (a node's checks, errors, breakers, metrics) into its
own, naming the part; a part that does not answer fails its ``NAME:reachable`` check."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from stockyard.config import load_settings
from stockyard.health import (
    CheckRunner,
    HealthCheck,
    HealthRegistry,
    HealthService,
    HealthStatus,
    Observation,
    SourceReport,
    builtin_health_checks,
    checks_from_ietf,
)
from stockyard.resilience import BreakerRegistry, CircuitBreaker, ErrorRegistry, NetworkError

AT = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


class Part:
    """A part of the system in memory: its checks, errors, breakers and metrics as given."""

    def __init__(self, name: str, *, answers: bool = True) -> None:
        self.name = name
        self.answers = answers
        self.status = HealthStatus.PASS
        self.errors = ErrorRegistry()
        self.breaker = CircuitBreaker("alpaca.trading", failure_threshold=1)
        self.metrics = CollectorRegistry()
        self.fills = Counter("node_fills", "fills", registry=self.metrics)

    async def collect(self) -> SourceReport:
        if not self.answers:
            raise ConnectionRefusedError("nothing listens on its socket")
        registry = HealthRegistry(
            [HealthCheck(self.name, "broker", lambda: Observation(self.status, 1.5, "ms", "ok"))]
        )
        report = await CheckRunner(registry, timeout=1).run_once()
        body = report.to_ietf(version="t", service_id=self.name)["checks"]
        assert isinstance(body, dict)
        return SourceReport(
            checks=checks_from_ietf(body, at=AT),  # as it crosses a socket: JSON and back
            errors=self.errors.snapshot(),
            breakers={self.breaker.name: self.breaker.snapshot()},
            metrics=generate_latest(self.metrics).decode(),
        )

    async def reset_breaker(self, name: str) -> Mapping[str, object] | None:
        if name != self.breaker.name:
            return None
        self.breaker.reset()
        return self.breaker.snapshot()


def _service(*parts: Part) -> tuple[HealthService, ErrorRegistry]:
    errors = ErrorRegistry()
    own = HealthRegistry([HealthCheck("process", "uptime", lambda: Observation.passed("up"))])
    service = HealthService(
        registry=own,
        interval=1,
        timeout=1,
        errors=errors,
        breakers=BreakerRegistry(),
        metrics=CollectorRegistry(),
    )
    for part in parts:
        service.add_source(part)
    return service, errors


def test_a_parts_checks_join_the_report_under_its_name_and_decide_the_status() -> None:
    node = Part("node@sandbox")
    service, _ = _service(node)
    report = asyncio.run(service.run_now())
    assert set(report.checks) == {"process:uptime", "node@sandbox:broker"}
    merged = report.checks["node@sandbox:broker"]
    assert merged.component == "node@sandbox"
    assert merged.observations[0].value == 1.5
    assert report.status is HealthStatus.PASS
    node.status = HealthStatus.FAIL
    assert asyncio.run(service.run_now()).status is HealthStatus.FAIL
    assert service.summary_json() == b'{"status":"fail"}'


def test_a_part_that_does_not_answer_fails_naming_it_and_why() -> None:
    service, _ = _service(Part("node@sandbox", answers=False))
    report = asyncio.run(service.run_now())
    (observation,) = report.checks["node@sandbox:reachable"].observations
    assert observation.status is HealthStatus.FAIL
    assert observation.output == (
        "node@sandbox did not answer: ConnectionRefusedError: nothing listens on its socket"
    )
    assert report.status is HealthStatus.FAIL


def test_errors_are_summed_over_processes_and_each_record_names_its_process() -> None:
    node = Part("node@sandbox")
    service, errors = _service(node)
    node.errors.record(NetworkError("sandbox down"), component="execution")
    node.errors.record(NetworkError("sandbox down"), component="execution")
    errors.record(ValueError("bad request"), component="api")
    asyncio.run(service.run_now())
    merged = service.errors()
    assert merged["total"] == 3
    by_category = merged["by_category"]
    assert isinstance(by_category, dict)
    assert by_category["network"] == 2
    recent = merged["recent"]
    assert isinstance(recent, list)
    assert sorted(r["process"] for r in recent) == ["hub", "node@sandbox", "node@sandbox"]
    processes = merged["processes"]
    assert isinstance(processes, dict)
    assert set(processes) == {"node@sandbox"}


def test_a_parts_breaker_is_listed_under_its_name_and_reset_there() -> None:
    node = Part("node@sandbox")
    service, _ = _service(node)
    with pytest.raises(NetworkError), node.breaker:
        raise NetworkError("down")
    asyncio.run(service.run_now())
    states = service.breaker_states()
    assert states["node@sandbox:alpaca.trading"]["state"] == "open"
    assert states["node@sandbox:alpaca.trading"]["process"] == "node@sandbox"
    assert service.errors()["breakers"] == states
    reset = asyncio.run(service.reset_breaker("node@sandbox:alpaca.trading"))
    assert reset is not None
    assert reset["state"] == "closed"
    assert asyncio.run(service.reset_breaker("node@sandbox:nope")) is None
    assert asyncio.run(service.reset_breaker("nope")) is None


def test_metrics_of_every_process_are_one_valid_exposition_labelled_by_process() -> None:
    node = Part("node@sandbox")
    service, _ = _service(node)
    own = Counter("node_fills", "fills", registry=service.metrics_registry)
    own.inc(2)
    node.fills.inc(5)
    asyncio.run(service.run_now())
    text = service.prometheus_text().decode()
    assert text.count("# TYPE node_fills_total counter") == 1
    families = {f.name: f for f in text_string_to_metric_families(text)}
    values = {
        s.labels.get("process", "hub"): s.value
        for s in families["node_fills"].samples
        if s.name == "node_fills_total"
    }
    assert values == {"hub": 2.0, "node@sandbox": 5.0}


class SamePart(Part):
    """A part of this very process: its breaker is in the process's registry too."""

    async def collect(self) -> SourceReport:
        report = await super().collect()
        return SourceReport(checks=report.checks, breakers=report.breakers, shared=True)


def test_a_breaker_of_a_part_in_this_process_shows_as_the_parts_only() -> None:
    node = SamePart("node@sandbox")
    breakers = BreakerRegistry()
    breakers.register(node.breaker)  # one registry per process: the node's breaker is in it
    builtin = builtin_health_checks(load_settings(env={}), breakers=breakers)
    own = HealthRegistry(c for c in builtin if c.key == "breakers:state")
    service = HealthService(
        registry=own, interval=1, timeout=1, breakers=breakers, metrics=CollectorRegistry()
    )
    service.add_source(node)
    report = asyncio.run(service.run_now())
    (alone,) = report.checks["breakers:state"].observations
    assert alone.output == "no circuit breakers registered"  # as in the hub of supervisord
    assert set(service.breaker_states()) == {"node@sandbox:alpaca.trading"}
    assert service.breaker_states()["node@sandbox:alpaca.trading"]["process"] == "hub"
