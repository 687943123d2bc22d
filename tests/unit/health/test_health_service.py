from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from stockyard.config import load_settings
from stockyard.core import SimClock
from stockyard.health import (
    METRIC_NAMES,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    AlertState,
    AppriseNotifier,
    HealthCheck,
    HealthRegistry,
    HealthService,
    HealthStatus,
    InMemoryMetricsHistory,
    LogNotifier,
    MetricSample,
    Observation,
    WebhookNotifier,
    build_notifiers,
)
from stockyard.resilience import BreakerRegistry, ErrorRegistry

if TYPE_CHECKING:  # the fixture's type; conftest is not importable at run time
    from tests.conftest import WebhookReceiver

T_SERVICE = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


class Switch:
    """A check whose status the test sets."""

    def __init__(self) -> None:
        self.status = HealthStatus.PASS

    def __call__(self) -> Observation:
        return Observation(self.status, 1.0, "ms", f"switch {self.status.value}")


class Recorder:
    """A notifier of our own interface that keeps what it was given."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[AlertEvent] = []

    async def notify(self, event: AlertEvent) -> None:
        self.events.append(event)


def _service(
    switch: Switch, *notifiers: object, clock: SimClock | None = None, **kw: object
) -> HealthService:
    return HealthService(
        registry=HealthRegistry([HealthCheck("redis", "responseTime", switch, "datastore")]),
        interval=0.05,
        timeout=1.0,
        rules=[AlertRule(name="down", severity=AlertSeverity.CRITICAL, cooldown_s=0)],
        notifiers=list(notifiers),  # type: ignore[arg-type]
        clock=clock or SimClock(T_SERVICE),
        errors=ErrorRegistry(),
        breakers=BreakerRegistry(),
        metrics=CollectorRegistry(),
        **kw,  # type: ignore[arg-type]
    )


def test_an_alert_is_raised_stored_posted_and_resolved(webhook: WebhookReceiver) -> None:
    switch, recorder = Switch(), Recorder()
    service = _service(switch, LogNotifier(), WebhookNotifier(webhook.url), recorder)

    async def scenario() -> None:
        await service.run_now()
        assert recorder.events == []
        switch.status = HealthStatus.FAIL
        await service.run_now()
        switch.status = HealthStatus.PASS
        await service.run_now()

    asyncio.run(scenario())
    assert [e.kind for e in recorder.events] == ["raised", "resolved"]
    raised, resolved = webhook.next(), webhook.next()
    assert raised["event"] == "raised"
    assert resolved["event"] == "resolved"
    alert = raised["alert"]
    assert isinstance(alert, dict)
    assert alert["severity"] == "critical"
    assert alert["subject"] == "redis:responseTime"
    (stored,) = service.alerts()
    assert stored.state is AlertState.RESOLVED
    assert stored.id == alert["id"]


def test_a_failing_notifier_does_not_stop_the_others(webhook: WebhookReceiver) -> None:
    webhook.status = 500
    switch, recorder = Switch(), Recorder()
    service = _service(switch, WebhookNotifier(webhook.url), recorder)
    switch.status = HealthStatus.FAIL
    asyncio.run(service.run_now())
    assert webhook.next()["event"] == "raised"
    assert [e.kind for e in recorder.events] == ["raised"]
    assert service.alerts()[0].state is AlertState.FIRING


def test_status_and_detailed_json_follow_the_last_cycle() -> None:
    switch = Switch()
    service = _service(switch)
    assert service.status() is HealthStatus.WARN  # not run yet
    assert orjson.loads(service.detailed_json())["output"] == "checks not run yet"
    assert service.ready() == (False, "checks not run yet")
    switch.status = HealthStatus.FAIL
    asyncio.run(service.run_now())
    assert service.status() is HealthStatus.FAIL
    assert orjson.loads(service.summary_json()) == {"status": "fail"}
    body = orjson.loads(service.detailed_json())
    assert body["checks"]["redis:responseTime"][0]["status"] == "fail"
    assert service.ready() == (False, "failing: redis:responseTime")
    assert service.component("redis") is not None
    assert service.component("nope") is None
    assert service.component_names() == ["redis"]


def test_the_background_loop_keeps_running_cycles_until_stopped() -> None:
    service = _service(Switch())

    async def scenario() -> None:
        await service.start()
        assert service.live() == (True, "ok")
        deadline = time.monotonic() + 5
        while service.report is not None and service.report.cycle < 3:
            assert time.monotonic() < deadline, "the loop did not run"
            await asyncio.sleep(0.01)
        await service.stop()
        assert service.live() == (False, "health checks are not running")

    asyncio.run(scenario())


def test_each_cycle_samples_metrics_and_old_samples_are_pruned() -> None:
    clock = SimClock(T_SERVICE)
    history = InMemoryMetricsHistory()
    history.add([MetricSample(clock.now() - timedelta(days=8), "redis", "responseTime", 9.0)])
    service = _service(Switch(), clock=clock, history=history, retention=timedelta(days=7))
    asyncio.run(service.run_now())
    names = sorted({(s.component, s.name) for s in service.metrics()})
    assert names == [("redis", "check_ms"), ("redis", "responseTime"), ("redis", "status")]
    assert all(s.time == clock.now() for s in service.metrics())  # the 8-day-old one is gone


def test_an_alert_can_be_acknowledged_once_and_unknown_ids_are_none() -> None:
    switch = Switch()
    switch.status = HealthStatus.FAIL
    service = _service(switch)
    asyncio.run(service.run_now())
    (alert,) = service.alerts()
    acknowledged = service.acknowledge(alert.id)
    assert acknowledged is not None
    assert acknowledged.acknowledged_at is not None
    assert service.alerts()[0].acknowledged_at == acknowledged.acknowledged_at
    assert service.acknowledge("nope") is None


def test_every_named_metric_is_exported_while_the_service_runs() -> None:
    service = _service(Switch())

    async def scenario() -> str:
        await service.start()
        try:
            return generate_latest(service.metrics_registry).decode()
        finally:
            await service.stop()

    text = asyncio.run(scenario())
    exported: set[str] = set()
    for family in text_string_to_metric_families(text):
        exported |= {family.name, *(s.name for s in family.samples)}
        if family.type == "counter":
            exported.add(f"{family.name}_total")
    assert set(METRIC_NAMES) <= exported
    assert 'stockyard_health_check_status{check="redis:responseTime",component="redis"} 0.0' in text
    assert "stockyard_health_status" not in generate_latest(service.metrics_registry).decode()


# apprise's plugins import the standard library's imghdr, deprecated in Python 3.11+.
APPRISE_IMGHDR = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


@APPRISE_IMGHDR
def test_apprise_urls_deliver_through_apprise_to_a_real_receiver(webhook: WebhookReceiver) -> None:
    # apprise's json:// plugin POSTs JSON: the same local receiver stands in for Slack & co.
    target = webhook.url.replace("http://", "json://")
    settings = load_settings(env={"STOCKYARD_ALERTS__APPRISE_URLS": f"{target}, "})
    notifiers = build_notifiers(settings)
    assert [n.name for n in notifiers] == ["log", "apprise"]
    switch = Switch()
    switch.status = HealthStatus.FAIL
    asyncio.run(_service(switch, *notifiers).run_now())
    body = webhook.next()
    assert body["title"] == "[critical] down raised"
    assert "redis:responseTime is fail" in str(body["message"])


@APPRISE_IMGHDR
def test_apprise_refuses_urls_it_cannot_use_without_echoing_their_secrets() -> None:
    with pytest.raises(ValueError, match=r"nonsense://…") as raised:
        AppriseNotifier(["nonsense://token-123@host"])
    assert "token-123" not in str(raised.value)


def test_the_webhook_is_configured_from_settings(webhook: WebhookReceiver) -> None:
    settings = load_settings(env={"STOCKYARD_ALERTS__WEBHOOK_URL": webhook.url})
    assert [n.name for n in build_notifiers(settings)] == ["log", "webhook"]
    assert webhook.url in settings.secret_values()  # so the logs redact it
