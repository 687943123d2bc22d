from __future__ import annotations

import asyncio
import threading
import time

import pytest

from stockyard.health import (
    CheckRunner,
    HealthCheck,
    HealthRegistry,
    HealthStatus,
    Observation,
)


def _ok() -> Observation:
    return Observation.passed("fine", value=1.5, unit="ms")


def test_a_registry_refuses_a_second_check_with_the_same_key() -> None:
    registry = HealthRegistry([HealthCheck("redis", "responseTime", _ok)])
    with pytest.raises(ValueError, match="already registered"):
        registry.add(HealthCheck("redis", "responseTime", _ok))
    registry.add(HealthCheck("redis", "responseTime", _ok), replace=True)
    assert registry.keys == ["redis:responseTime"]


def test_sync_and_async_checks_run_and_report_their_observations() -> None:
    async def slow_ok() -> Observation:
        await asyncio.sleep(0)
        return Observation.warned("meh", value=3, unit="items")

    registry = HealthRegistry(
        [HealthCheck("a", "x", _ok), HealthCheck("b", "y", slow_ok, required=False)]
    )
    report = asyncio.run(CheckRunner(registry, timeout=1.0).run_once())
    assert report.checks["a:x"].status is HealthStatus.PASS
    assert report.checks["b:y"].observations[0].value == 3
    assert report.status is HealthStatus.WARN
    assert report.cycle == 1


def test_a_hung_thread_check_times_out_as_failed_without_holding_up_the_others() -> None:
    release = threading.Event()

    def hangs() -> Observation:
        release.wait(30)
        return _ok()

    registry = HealthRegistry([HealthCheck("stuck", "x", hangs), HealthCheck("a", "x", _ok)])
    runner = CheckRunner(registry, timeout=0.2)
    try:
        began = time.monotonic()
        report = asyncio.run(runner.run_once())
        assert time.monotonic() - began < 2.0
        stuck = report.checks["stuck:x"]
        assert stuck.status is HealthStatus.FAIL
        assert "timed out after 0.2 s" in stuck.observations[0].output
        assert report.checks["a:x"].status is HealthStatus.PASS
        assert report.status is HealthStatus.FAIL

        # The next cycle does not start a second thread for the same hung check.
        again = asyncio.run(runner.run_once())
        assert "still running" in again.checks["stuck:x"].observations[0].output
    finally:
        release.set()


def test_a_hung_async_check_is_cancelled_at_its_own_timeout() -> None:
    cancelled = []

    async def hangs() -> Observation:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return _ok()

    registry = HealthRegistry([HealthCheck("stuck", "x", hangs, timeout=0.05)])
    report = asyncio.run(CheckRunner(registry, timeout=10).run_once())
    assert report.checks["stuck:x"].status is HealthStatus.FAIL
    assert cancelled == [True]


def test_a_check_that_raises_or_returns_nonsense_is_a_failed_check() -> None:
    def raises() -> Observation:
        raise RuntimeError("boom")

    def nonsense() -> Observation:
        return "fine"  # type: ignore[return-value]

    registry = HealthRegistry([HealthCheck("a", "x", raises), HealthCheck("b", "x", nonsense)])
    report = asyncio.run(CheckRunner(registry, timeout=1).run_once())
    assert report.checks["a:x"].observations[0].output == "check raised RuntimeError: boom"
    assert "not Observation" in report.checks["b:x"].observations[0].output


def test_an_optional_failing_check_makes_the_whole_warn_not_fail() -> None:
    registry = HealthRegistry(
        [HealthCheck("gpu", "count", lambda: Observation.failed("gone"), required=False)]
    )
    report = asyncio.run(CheckRunner(registry, timeout=1).run_once())
    assert report.status is HealthStatus.WARN


def test_the_report_renders_as_ietf_health_json() -> None:
    def breakers() -> list[Observation]:
        return [
            Observation(HealthStatus.PASS, "closed", None, "db closed", "db"),
            Observation(HealthStatus.WARN, "open", None, "feed open", "feed"),
        ]

    registry = HealthRegistry(
        [
            HealthCheck("redis", "responseTime", _ok, "datastore"),
            HealthCheck("b", "state", breakers),
        ]
    )
    report = asyncio.run(CheckRunner(registry, timeout=1).run_once())
    body = report.to_ietf(version="1.2.3", service_id="svc")
    assert body["status"] == "warn"
    assert body["version"] == "1.2.3"
    assert body["serviceId"] == "svc"
    checks = body["checks"]
    assert isinstance(checks, dict)
    (redis,) = checks["redis:responseTime"]
    assert redis["componentId"] == "redis"
    assert redis["componentType"] == "datastore"
    assert redis["observedValue"] == 1.5
    assert redis["observedUnit"] == "ms"
    assert redis["status"] == "pass"
    assert redis["output"] == "fine"
    assert "time" in redis
    assert [e["componentId"] for e in checks["b:state"]] == ["db", "feed"]
