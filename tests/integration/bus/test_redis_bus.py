"""The Redis bus against the real Redis: pub/sub, request/response, Streams resume."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import msgpack
import pytest
import redis
from prometheus_client import CollectorRegistry

from stockyard.bus import MessageBus, NoResponderError, RedisBus, bus_health
from stockyard.core import Trade

pytestmark = pytest.mark.redis
WHEN = datetime(2024, 1, 2, 15, tzinfo=UTC)


def make(url: str, prefix: str, **kw: object) -> RedisBus:
    return RedisBus(url=url, prefix=prefix, registry=CollectorRegistry(), **kw)  # type: ignore[arg-type]


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def test_a_message_reaches_local_and_remote_subscribers_exactly_once(
    redis_url: str, redis_prefix: str
) -> None:
    async def scenario() -> tuple[list[str], list[str], dict[str, object]]:
        async with make(redis_url, redis_prefix) as a, make(redis_url, redis_prefix) as b:
            assert isinstance(a, MessageBus)
            here: list[str] = []
            there: list[str] = []
            a.subscribe("md.trade.*", lambda t, m: here.append(t))
            b.subscribe("md.trade.*", lambda t, m: there.append(t))
            b.subscribe("md.>", lambda t, m: there.append("all:" + t))  # overlapping globs
            await a.ready()
            await b.ready()
            a.publish("md.trade.AAPL", Trade("AAPL", WHEN, 1.0, 1.0, 1))
            a.publish("md.quote.AAPL", {"not": "a quote"})
            await until(lambda: len(there) == 3)
            await asyncio.sleep(0.05)  # nothing more arrives (no echo, no double delivery)
            return here, there, await bus_health(b)

    here, there, health = asyncio.run(scenario())
    assert here == ["md.trade.AAPL"]
    assert there == ["md.trade.AAPL", "all:md.trade.AAPL", "all:md.quote.AAPL"]
    assert health["status"] == "ok"
    assert health["connected"] is True


def test_a_request_is_answered_by_a_responder_in_another_bus(
    redis_url: str, redis_prefix: str
) -> None:
    async def scenario() -> object:
        async with make(redis_url, redis_prefix) as a, make(redis_url, redis_prefix) as b:
            b.respond("cmd.add", sum)
            await b.ready()
            with pytest.raises(NoResponderError):
                await a.request("cmd.nobody", 1, timeout=1.0)
            return await a.request("cmd.add", [1, 2, 3], timeout=2.0)

    assert asyncio.run(scenario()) == 6


def test_an_undecodable_frame_is_counted_and_dropped_and_the_next_one_arrives(
    redis_url: str, redis_prefix: str
) -> None:
    async def scenario() -> tuple[list[object], int]:
        async with make(redis_url, redis_prefix) as b:
            got: list[object] = []
            b.subscribe("md.trade.*", lambda t, m: got.append(m))
            await b.ready()
            raw = redis.Redis.from_url(redis_url)
            channel = f"{redis_prefix}md.trade.X"
            raw.publish(channel, b"01234567" + msgpack.packb([["Z", 1], ["V", 7]]))
            raw.publish(channel, b"01234567\xc1")
            raw.close()
            await until(lambda: b.metrics.decode_errors == 2)
            return got, b.metrics.decode_errors

    got, errors = asyncio.run(scenario())
    assert got == [7]
    assert errors == 2


def test_a_restarted_streams_consumer_resumes_after_its_last_acknowledged_entry(
    redis_url: str, redis_prefix: str
) -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        publisher = await make(redis_url, redis_prefix, name="pub").start()
        first: list[int] = []
        consumer = make(redis_url, redis_prefix, group="recorder", consumer="rec-1")
        consumer.subscribe("exec.>", lambda t, m: first.append(m["n"]))  # type: ignore[index]
        await consumer.start()
        await consumer.ready()
        for n in range(5):
            await publisher.publish_async("exec.fill", {"n": n})
        await until(lambda: len(first) == 5)
        await consumer.close()  # the consumer goes away; events keep coming
        for n in range(5, 12):
            await publisher.publish_async("exec.order" if n % 2 else "exec.fill", {"n": n})
        second: list[int] = []
        again = make(redis_url, redis_prefix, group="recorder", consumer="rec-1")
        again.subscribe("exec.>", lambda t, m: second.append(m["n"]))  # type: ignore[index]
        await again.start()
        await until(lambda: len(second) >= 7)
        await asyncio.sleep(0.05)
        await again.close()
        await publisher.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first == list(range(5))
    assert second == list(range(5, 12))


def test_entries_delivered_but_never_acknowledged_are_replayed_after_a_restart(
    redis_url: str, redis_prefix: str
) -> None:
    async def scenario() -> tuple[list[int], int]:
        async with make(redis_url, redis_prefix, group="g", consumer="c") as bus:
            bus.subscribe("exec.fill", lambda t, m: None)
            await bus.ready()
        key, raw = f"{redis_prefix}stream:exec", redis.Redis.from_url(redis_url)
        async with make(redis_url, redis_prefix, name="pub") as pub:
            for n in range(3):
                await pub.publish_async("exec.fill", {"n": n})
        raw.xreadgroup("g", "c", {key: ">"})  # "c" takes them, then dies before acking
        assert raw.xpending(key, "g")["pending"] == 3
        got: list[int] = []
        async with make(redis_url, redis_prefix, group="g", consumer="c") as bus:
            bus.subscribe("exec.fill", lambda t, m: got.append(m["n"]))  # type: ignore[index]
            await until(lambda: len(got) == 3)
            await asyncio.sleep(0.05)
        pending = raw.xpending(key, "g")["pending"]
        raw.close()
        return got, pending

    got, pending = asyncio.run(scenario())
    assert got == [0, 1, 2]
    assert pending == 0
