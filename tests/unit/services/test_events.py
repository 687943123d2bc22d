"""The event hub: numbered events, topic filters, resume after a given id, the bus and the
health alerts as sources."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.core import Bar
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
from stockyard.services import AlertEvents, Event, EventHub, HealthEvents


def test_a_subscriber_gets_its_topics_and_resumes_after_the_last_id_it_saw() -> None:
    hub = EventHub()

    async def scenario() -> None:
        hub.publish("jobs", {"n": 1}, "a")
        hub.publish("fills", {"n": 2}, "AAPL")
        third = hub.publish("jobs", {"n": 3}, "a")
        stream = hub.stream(["jobs"], last_id=0)
        got: list[Event | None] = [await anext(stream), await anext(stream)]
        await stream.aclose()
        assert [e.data["n"] for e in got if e is not None] == [1, 3]
        resumed = hub.stream(None, last_id=third.id - 1)
        waiting = asyncio.ensure_future(anext(resumed))
        assert (await waiting) == third
        later = asyncio.ensure_future(anext(resumed))
        hub.publish("orders", {"n": 4})
        event = await asyncio.wait_for(later, 5)
        assert event is not None
        assert event.data == {"n": 4}
        await resumed.aclose()

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="unknown event topic"):
        hub.publish("gossip", {})


def test_bars_on_the_bus_become_bar_events_with_their_symbol() -> None:
    hub = EventHub()
    bus = InProcessBus(registry=CollectorRegistry())
    hub.attach(bus)
    at = datetime(2024, 3, 4, 15, tzinfo=UTC)
    bus.publish("md.bar.AAPL", Bar("AAPL", at, 1.0, 2.0, 0.5, 1.5, 100.0))
    hub.detach()
    bus.publish("md.bar.AAPL", Bar("AAPL", at, 1.0, 2.0, 0.5, 1.5, 100.0))
    (event,) = hub.since(0)
    assert (event.topic, event.subject) == ("bars", "AAPL")
    assert event.data["close"] == 1.5


def test_an_alert_raised_by_a_health_check_is_an_event() -> None:
    service = HealthService(
        registry=HealthRegistry(
            [
                HealthCheck(
                    "redis",
                    "responseTime",
                    lambda: Observation(HealthStatus.FAIL, 1.0, "ms", "down"),
                )
            ]
        ),
        interval=60,
        timeout=1.0,
        rules=[AlertRule(name="down", severity=AlertSeverity.CRITICAL)],
        errors=ErrorRegistry(),
        breakers=BreakerRegistry(),
        metrics=CollectorRegistry(),
    )
    hub = EventHub()
    service.notifiers.append(AlertEvents(hub))

    async def scenario() -> None:
        await service.start()
        try:
            await service.run_now()
        finally:
            await service.stop()

    asyncio.run(scenario())
    alerts = [e for e in hub.since(0) if e.topic == "alerts"]
    assert alerts
    assert alerts[0].data["event"] == "raised"
    assert alerts[0].subject == "down"


def test_a_change_of_health_is_an_event_and_a_cycle_without_one_is_not() -> None:
    state = {"status": HealthStatus.PASS}
    service = HealthService(
        registry=HealthRegistry(
            [
                HealthCheck(
                    "broker",
                    "responseTime",
                    lambda: Observation(state["status"], 1.0, "ms", "probe"),
                )
            ]
        ),
        interval=60,
        timeout=1.0,
        errors=ErrorRegistry(),
        breakers=BreakerRegistry(),
        metrics=CollectorRegistry(),
    )
    hub = EventHub()
    service.report_listeners.append(HealthEvents(hub))

    async def scenario() -> None:
        await service.start()  # the first cycle: always told
        try:
            await service.run_now()  # unchanged: nothing
            state["status"] = HealthStatus.FAIL
            await service.run_now()  # changed: told
        finally:
            await service.stop()

    asyncio.run(scenario())
    told = [e.data for e in hub.since(0) if e.topic == "health"]
    assert [d["status"] for d in told] == ["pass", "fail"]
    assert told[1]["checks"] == {"broker:responseTime": "fail"}
    assert told[1]["changed"] == ["broker:responseTime"]


def test_rates_count_each_topics_events_over_the_window_and_since_the_start() -> None:
    hub = EventHub()
    assert hub.rates()["bars"].per_s == 0.0  # it could count: nothing came yet
    for _ in range(30):
        hub.publish("bars", {"symbol": "AAPL"}, "AAPL")
    hub.publish("fills", {"symbol": "AAPL"}, "AAPL")
    rates = hub.rates(window_s=60.0)
    assert rates["bars"].total == 30
    assert rates["bars"].per_s == pytest.approx(30 / 60.0)
    assert rates["fills"].per_s == pytest.approx(1 / 60.0)
    assert rates["quotes"].total == 0


def test_closing_the_hub_ends_the_streams_waiting_on_it() -> None:
    hub = EventHub()

    async def scenario() -> None:
        stream = hub.stream(["jobs"], last_id=0)
        hub.publish("jobs", {"n": 1})
        assert (await anext(stream)) is not None  # a live stream, before the close
        waiting = asyncio.ensure_future(anext(stream))
        hub.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 5)
        assert hub.closed
        late = hub.stream(["jobs"], last_id=0)
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(anext(late), 5)

    asyncio.run(scenario())
