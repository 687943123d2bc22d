from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from stockyard.bus import (
    InProcessBus,
    MessageBus,
    NoResponderError,
    RequestFailedError,
    RequestTimeoutError,
)
from stockyard.core import Trade

TRADE = Trade("AAPL", datetime(2024, 1, 2, 15, tzinfo=UTC), 1.0, 1.0)


def make_bus(**kw: object) -> InProcessBus:
    return InProcessBus(registry=CollectorRegistry(), **kw)  # type: ignore[arg-type]


def test_the_in_process_bus_is_a_message_bus() -> None:
    assert isinstance(make_bus(), MessageBus)


def test_exact_and_wildcard_subscribers_each_get_the_message_once_in_order() -> None:
    bus = make_bus()
    seen: list[tuple[str, str]] = []
    bus.subscribe("md.trade.AAPL", lambda t, m: seen.append(("exact", t)))
    bus.subscribe("md.trade.*", lambda t, m: seen.append(("star", t)))
    bus.subscribe("md.>", lambda t, m: seen.append(("rest", t)))
    bus.subscribe("md.trade.MSFT", lambda t, m: seen.append(("other", t)))
    bus.publish("md.trade.AAPL", TRADE)
    assert seen == [
        ("exact", "md.trade.AAPL"),
        ("star", "md.trade.AAPL"),
        ("rest", "md.trade.AAPL"),
    ]


def test_a_cancelled_subscription_receives_nothing_more_and_the_cache_follows() -> None:
    bus = make_bus()
    got: list[object] = []
    sub = bus.subscribe("md.trade.*", lambda t, m: got.append(m))
    bus.publish("md.trade.AAPL", TRADE)
    sub.cancel()
    sub.cancel()  # idempotent
    bus.publish("md.trade.AAPL", TRADE)
    late: list[object] = []
    bus.subscribe("md.trade.AAPL", lambda t, m: late.append(m))
    bus.publish("md.trade.AAPL", TRADE)
    assert got == [TRADE]
    assert late == [TRADE]


def test_a_failing_handler_is_isolated_counted_and_the_others_still_receive() -> None:
    bus = make_bus()
    got: list[object] = []

    def broken(topic: str, message: object) -> None:
        raise RuntimeError("boom")

    bus.subscribe("md.>", broken)
    bus.subscribe("md.>", lambda t, m: got.append(m))
    for _ in range(3):
        bus.publish("md.trade.AAPL", TRADE)
    assert got == [TRADE] * 3
    assert bus.stats()["families"]["md"]["handler_errors"] == 3  # type: ignore[index]


def test_an_async_handler_given_to_subscribe_is_refused() -> None:
    async def handler(topic: str, message: object) -> None:
        return None

    with pytest.raises(TypeError, match="subscribe_async"):
        make_bus().subscribe("md.>", handler)


def test_a_topic_with_a_wildcard_cannot_be_published() -> None:
    with pytest.raises(ValueError, match="wildcards"):
        make_bus().publish("md.trade.*", TRADE)


async def _until(predicate: object, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.001)


def test_a_slow_market_data_consumer_loses_the_oldest_and_the_drop_is_counted() -> None:
    async def scenario() -> tuple[list[int], dict[str, object]]:
        bus = make_bus()
        got: list[int] = []
        release = asyncio.Event()

        async def slow(topic: str, message: int) -> None:
            await release.wait()
            got.append(message)

        bus.subscribe_async("md.trade.*", slow, maxsize=3)
        bus.publish("md.trade.AAPL", 0)
        await asyncio.sleep(0)  # the consumer takes 0 and blocks on it
        for i in range(1, 8):
            bus.publish("md.trade.AAPL", i)
        release.set()
        await _until(lambda: len(got) == 4)
        stats = bus.stats()
        await bus.close()
        return got, stats

    got, stats = asyncio.run(scenario())
    assert got == [0, 5, 6, 7]
    assert stats["families"]["md"]["dropped"] == 4  # type: ignore[index]


def test_a_slow_execution_consumer_never_loses_a_message() -> None:
    async def scenario() -> tuple[list[int], int]:
        bus = make_bus()
        got: list[int] = []
        release = asyncio.Event()

        async def slow(topic: str, message: int) -> None:
            await release.wait()
            got.append(message)

        bus.subscribe_async("exec.fill", slow, maxsize=3)
        for i in range(10):
            bus.publish("exec.fill", i)  # a sync publisher: the queue grows past its bound
        over = bus.stats()["queues"][0]["over_bound"]  # type: ignore[index]
        release.set()
        await _until(lambda: len(got) == 10)
        await bus.close()
        return got, over

    got, over = asyncio.run(scenario())
    assert got == list(range(10))
    assert over > 0


def test_publish_async_waits_for_room_in_a_never_drop_queue() -> None:
    async def scenario() -> list[int]:
        bus = make_bus()
        got: list[int] = []
        gate = asyncio.Semaphore(0)

        async def slow(topic: str, message: int) -> None:
            await gate.acquire()
            got.append(message)

        bus.subscribe_async("exec.order", slow, maxsize=2)
        publisher = asyncio.create_task(_publish_all(bus, 6))
        await asyncio.sleep(0.01)
        assert not publisher.done()  # held back by the full queue
        assert bus.stats()["queues"][0]["depth"] <= 2  # type: ignore[index]
        for _ in range(6):
            gate.release()
        await publisher
        await _until(lambda: len(got) == 6)
        await bus.close()
        return got

    assert asyncio.run(scenario()) == list(range(6))


async def _publish_all(bus: InProcessBus, n: int) -> None:
    for i in range(n):
        await bus.publish_async("exec.order", i)


def test_request_gets_the_reply_of_a_sync_or_async_responder() -> None:
    async def scenario() -> tuple[object, object]:
        bus = make_bus()
        bus.respond("cmd.double", lambda x: x * 2)

        async def slow_echo(payload: object) -> object:
            await asyncio.sleep(0)
            return {"echo": payload}

        bus.respond("cmd.echo", slow_echo)
        return await bus.request("cmd.double", 21), await bus.request("cmd.echo", "hi")

    assert asyncio.run(scenario()) == (42, {"echo": "hi"})


def test_request_without_responder_timeout_or_failure_raise_bus_errors() -> None:
    async def scenario() -> None:
        bus = make_bus()
        with pytest.raises(NoResponderError):
            await bus.request("cmd.none", 1)

        async def never(payload: object) -> None:
            await asyncio.Event().wait()

        bus.respond("cmd.never", never)
        with pytest.raises(RequestTimeoutError):
            await bus.request("cmd.never", 1, timeout=0.01)
        bus.respond("cmd.fail", lambda p: 1 / 0)
        with pytest.raises(RequestFailedError, match="ZeroDivisionError"):
            await bus.request("cmd.fail", 1)
        with pytest.raises(ValueError, match="already has a responder"):
            bus.respond("cmd.fail", lambda p: p)

    asyncio.run(scenario())


def test_stats_are_json_and_latency_is_sampled_into_the_injected_registry() -> None:
    registry = CollectorRegistry()
    bus = InProcessBus(registry=registry, sample_every=1)
    bus.subscribe("md.>", lambda t, m: None)
    for _ in range(10):
        bus.publish("md.trade.AAPL", TRADE)
    stats = bus.stats()
    json.dumps(stats)
    assert stats["latency"]["samples"] == 10  # type: ignore[index]
    assert stats["latency"]["p99_us"] is not None  # type: ignore[index]
    text = generate_latest(registry).decode()
    assert (
        'stockyard_bus_messages_published_total{bus="inproc",family="md",kind="inproc"} 10.0'
        in text
    )
    assert "stockyard_bus_delivery_latency_seconds_count" in text


def test_sample_every_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        make_bus(sample_every=10)
