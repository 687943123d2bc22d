"""Two breakers of the same name, each with its own Redis client, share the OPEN state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis

from stockyard.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RedisBreakerStateStore,
)

pytestmark = pytest.mark.redis


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def prefix(_resilience_redis: str) -> Iterator[str]:
    """A key prefix unique to the test; its keys are deleted afterwards."""
    prefix = f"stockyard-test:{uuid.uuid4().hex}:breaker:"
    yield prefix
    client = redis.Redis.from_url(_resilience_redis)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def clients(_resilience_redis: str) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    """Two separate clients, as two processes would have."""
    first = redis.Redis.from_url(_resilience_redis, socket_timeout=0.5)
    second = redis.Redis.from_url(_resilience_redis, socket_timeout=0.5)
    yield first, second
    first.close()
    second.close()


def breaker(client: redis.Redis, prefix: str, clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(
        "alpaca-rest",
        failure_threshold=2,
        cooldown_s=30.0,
        success_threshold=1,
        clock=clock,
        state_store=RedisBreakerStateStore(client, prefix=prefix),
        store_sync_s=0,
    )


def refuse() -> None:
    raise ConnectionRefusedError("connection refused")


def test_a_breaker_opened_in_one_process_rejects_calls_in_the_other(
    clients: tuple[redis.Redis, redis.Redis], prefix: str
) -> None:
    first = breaker(clients[0], prefix, Clock())
    second = breaker(clients[1], prefix, Clock())
    calls: list[str] = []

    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            first.call(refuse)
    with pytest.raises(CircuitOpenError) as rejected:
        second.call(calls.append, "sent")

    assert calls == []
    assert second.state is CircuitState.OPEN
    assert 25.0 < rejected.value.retry_after <= 30.0
    assert 25_000 < clients[1].pttl(f"{prefix}alpaca-rest") <= 30_000


def test_the_async_path_sees_the_shared_open_state_too(
    clients: tuple[redis.Redis, redis.Redis], prefix: str
) -> None:
    first = breaker(clients[0], prefix, Clock())
    second = breaker(clients[1], prefix, Clock())

    async def fail_twice_then_call_the_peer() -> None:
        for _ in range(2):
            with pytest.raises(ConnectionRefusedError):
                async with first:
                    refuse()
        with pytest.raises(CircuitOpenError):
            await second.call_async(asyncio.sleep, 0)

    asyncio.run(fail_twice_then_call_the_peer())


def test_closing_after_recovery_removes_the_shared_mark(
    clients: tuple[redis.Redis, redis.Redis], prefix: str
) -> None:
    first_clock, second_clock = Clock(), Clock()
    first = breaker(clients[0], prefix, first_clock)
    second = breaker(clients[1], prefix, second_clock)
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            first.call(refuse)
    with pytest.raises(CircuitOpenError):
        second.call(lambda: "rejected")

    first_clock.advance(30)
    assert first.call(lambda: "trial") == "trial"
    newcomer = breaker(clients[1], prefix, Clock())

    assert first.state is CircuitState.CLOSED
    assert clients[0].exists(f"{prefix}alpaca-rest") == 0
    assert newcomer.call(lambda: "through") == "through"
    # A peer that saw the OPEN state half-opens on its own cooldown, then closes on success.
    second_clock.advance(30)
    assert second.call(lambda: "trial") == "trial"
    assert second.state is CircuitState.CLOSED


def test_a_peer_reopening_is_not_undone_by_a_stale_close(
    clients: tuple[redis.Redis, redis.Redis], prefix: str
) -> None:
    store = RedisBreakerStateStore(clients[0], prefix=prefix)
    store.mark_open("alpaca-rest", owner="peer", cooldown_s=30)

    store.clear("alpaca-rest", owner="someone-else")
    shared = store.read_open("alpaca-rest")

    assert shared is not None
    assert shared.owner == "peer"
    assert 25.0 < shared.remaining_s <= 30.0
    assert store.read_open("never-opened") is None
