"""Circuit breakers: the state machine, sync and async use, listeners, sharing, threads."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from stockyard.resilience import (
    BreakerRegistry,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    InMemoryBreakerStateStore,
    NetworkError,
    SharedOpen,
    StateChange,
    ValidationError,
    default_breaker_registry,
)


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Dependency:
    """A callable that fails while ``down`` and counts its calls."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.down:
            raise ConnectionError("connection refused")
        return "ok"

    async def async_call(self) -> str:
        return self()


def make_breaker(clock: Clock, **kwargs: object) -> CircuitBreaker:
    options: dict[str, object] = {
        "failure_threshold": 3,
        "window_s": 10.0,
        "cooldown_s": 30.0,
        "success_threshold": 2,
        "clock": clock,
    }
    options.update(kwargs)
    return CircuitBreaker("alpaca", **options)  # type: ignore[arg-type]


def fail(breaker: CircuitBreaker, dependency: Dependency, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ConnectionError):
            breaker.call(dependency)


def test_a_closed_breaker_passes_calls_and_their_results_through() -> None:
    breaker = make_breaker(Clock())

    assert breaker.call(lambda x, y: x + y, 2, y=3) == 5
    assert breaker.state is CircuitState.CLOSED


def test_the_breaker_opens_after_n_failures_and_then_rejects_without_calling() -> None:
    clock = Clock()
    breaker = make_breaker(clock)
    dependency = Dependency()
    dependency.down = True

    fail(breaker, dependency, 3)
    clock.advance(5)
    with pytest.raises(CircuitOpenError) as rejected:
        breaker.call(dependency)

    assert breaker.state is CircuitState.OPEN
    assert dependency.calls == 3
    assert rejected.value.retryable
    assert rejected.value.breaker == "alpaca"
    assert rejected.value.retry_after == pytest.approx(25.0)


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    breaker = make_breaker(clock)
    dependency = Dependency()
    dependency.down = True

    fail(breaker, dependency, 2)
    clock.advance(10.5)
    fail(breaker, dependency, 2)

    assert breaker.state is CircuitState.CLOSED
    assert breaker.snapshot()["failures_in_window"] == 2


def test_after_the_cooldown_trial_calls_go_through_and_enough_successes_close_it() -> None:
    clock = Clock()
    breaker = make_breaker(clock)
    dependency = Dependency()
    dependency.down = True
    fail(breaker, dependency, 3)
    dependency.down = False

    clock.advance(30)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.call(dependency) == "ok"
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.call(dependency) == "ok"

    assert breaker.snapshot()["state"] == "closed"


def test_a_failure_while_half_open_reopens_for_a_fresh_cooldown() -> None:
    clock = Clock()
    breaker = make_breaker(clock)
    dependency = Dependency()
    dependency.down = True
    fail(breaker, dependency, 3)

    clock.advance(30)
    fail(breaker, dependency, 1)
    clock.advance(29)

    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as rejected:
        breaker.call(dependency)
    assert rejected.value.retry_after == pytest.approx(1.0)


def test_with_a_maximum_each_failed_trial_doubles_the_cooldown_and_closing_resets_it() -> None:
    clock = Clock()
    breaker = make_breaker(clock, cooldown_s=2.0, max_cooldown_s=7.0)
    dependency = Dependency()
    dependency.down = True
    fail(breaker, dependency, 3)
    waits = []
    for _ in range(4):  # open 2 s; each failed trial: 4 s, then 7 s (the cap), 7 s
        with pytest.raises(CircuitOpenError) as rejected:
            breaker.call(dependency)
        waits.append(rejected.value.retry_after)
        clock.advance(rejected.value.retry_after)
        fail(breaker, dependency, 1)
    assert waits == pytest.approx([2.0, 4.0, 7.0, 7.0])

    dependency.down = False
    clock.advance(7.0)
    breaker.call(dependency)
    breaker.call(dependency)
    assert breaker.state is CircuitState.CLOSED
    dependency.down = True
    fail(breaker, dependency, 3)
    with pytest.raises(CircuitOpenError) as rejected:
        breaker.call(dependency)
    assert rejected.value.retry_after == pytest.approx(2.0)
    assert breaker.snapshot()["next_cooldown_s"] == 2.0


def test_a_maximum_cooldown_below_the_first_is_refused() -> None:
    with pytest.raises(ValueError, match="max_cooldown_s"):
        make_breaker(Clock(), cooldown_s=5.0, max_cooldown_s=1.0)


def test_bad_input_errors_pass_through_and_never_trip_the_breaker() -> None:
    breaker = make_breaker(Clock(), failure_threshold=1)

    def reject_input() -> None:
        raise ValidationError("qty must be positive")

    for _ in range(5):
        with pytest.raises(ValidationError):
            breaker.call(reject_input)
        with pytest.raises(ValueError, match="bad symbol"):
            breaker.call(int, "bad symbol")

    assert breaker.state is CircuitState.CLOSED
    assert breaker.snapshot()["calls"] == {"admitted": 10, "ignored_errors": 10}


def test_which_errors_count_as_failures_is_configurable() -> None:
    breaker = make_breaker(
        Clock(), failure_threshold=1, is_failure=lambda exc: isinstance(exc, KeyError)
    )

    with pytest.raises(ConnectionError):
        breaker.call(_raise, ConnectionError())
    assert breaker.state is CircuitState.CLOSED
    with pytest.raises(KeyError):
        breaker.call(_raise, KeyError("x"))
    assert breaker.snapshot()["state"] == "open"


def _raise(exc: BaseException) -> None:
    raise exc


def test_cancellation_is_neither_a_failure_nor_a_success() -> None:
    clock = Clock()
    breaker = make_breaker(clock, failure_threshold=1)

    with pytest.raises(KeyboardInterrupt):
        breaker.call(_raise, KeyboardInterrupt())

    assert breaker.state is CircuitState.CLOSED
    assert breaker.snapshot()["calls"] == {"admitted": 1}


def test_the_async_path_opens_rejects_half_opens_and_closes_like_the_sync_one() -> None:
    clock = Clock()
    breaker = make_breaker(clock)
    dependency = Dependency()

    async def scenario() -> None:
        dependency.down = True
        for _ in range(3):
            with pytest.raises(ConnectionError):
                await breaker.call_async(dependency.async_call)
        with pytest.raises(CircuitOpenError):
            await breaker.call_async(dependency.async_call)
        dependency.down = False
        clock.advance(30)
        assert await breaker.call_async(dependency.async_call) == "ok"
        assert await breaker.call_async(dependency.async_call) == "ok"

    asyncio.run(scenario())

    assert breaker.state is CircuitState.CLOSED
    assert dependency.calls == 5


def test_the_breaker_decorates_sync_and_async_functions() -> None:
    clock = Clock()
    breaker = make_breaker(clock, failure_threshold=1)
    calls: list[str] = []

    @breaker
    def fetch(symbol: str) -> str:
        calls.append(symbol)
        raise TimeoutError(symbol)

    @breaker
    async def fetch_async(symbol: str) -> str:
        calls.append(symbol)
        return symbol

    with pytest.raises(TimeoutError):
        fetch("AAPL")
    with pytest.raises(CircuitOpenError):
        asyncio.run(fetch_async("MSFT"))

    assert fetch.__name__ == "fetch"
    assert calls == ["AAPL"]


def test_the_breaker_is_a_sync_and_an_async_context_manager() -> None:
    clock = Clock()
    breaker = make_breaker(clock, failure_threshold=2)

    for _ in range(2):
        with pytest.raises(ConnectionError), breaker:
            raise ConnectionError("refused")

    async def enter() -> None:
        async with breaker:
            pass

    with pytest.raises(CircuitOpenError):
        asyncio.run(enter())
    clock.advance(30)
    asyncio.run(enter())
    with breaker:
        pass

    assert breaker.state is CircuitState.CLOSED


def test_listeners_hear_every_state_change_in_order_until_they_unsubscribe() -> None:
    clock = Clock()
    breaker = make_breaker(clock, success_threshold=1)
    dependency = Dependency()
    heard: list[StateChange] = []
    unsubscribe = breaker.on_state_change(heard.append)
    dependency.down = True

    fail(breaker, dependency, 3)
    clock.advance(30)
    dependency.down = False
    breaker.call(dependency)
    unsubscribe()
    dependency.down = True
    fail(breaker, dependency, 3)

    assert [(c.old, c.new) for c in heard] == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]
    assert heard[0].reason == "3 failures within 10.0s"
    assert breaker.snapshot()["transitions"] == {"closed": 1, "open": 2, "half_open": 1}


def test_a_failing_listener_does_not_stop_the_others_or_the_call() -> None:
    breaker = make_breaker(Clock(), failure_threshold=1)
    heard: list[CircuitState] = []

    def broken(change: StateChange) -> None:
        raise RuntimeError("listener bug")

    breaker.on_state_change(broken)
    breaker.on_state_change(lambda change: heard.append(change.new))

    with pytest.raises(ConnectionError):
        breaker.call(_raise, ConnectionError())

    assert heard == [CircuitState.OPEN]


def test_reset_closes_an_open_breaker() -> None:
    breaker = make_breaker(Clock(), failure_threshold=1)
    with pytest.raises(ConnectionError):
        breaker.call(_raise, ConnectionError())

    breaker.reset()

    assert breaker.state is CircuitState.CLOSED
    assert breaker.call(lambda: 1) == 1


def test_breakers_sharing_a_store_share_the_open_state() -> None:
    clock = Clock()
    store = InMemoryBreakerStateStore(clock=clock)
    first = make_breaker(clock, state_store=store, store_sync_s=0)
    second = make_breaker(clock, state_store=store, store_sync_s=0)
    dependency = Dependency()
    dependency.down = True

    fail(first, dependency, 3)
    with pytest.raises(CircuitOpenError) as rejected:
        second.call(dependency)

    assert dependency.calls == 3
    assert second.state is CircuitState.OPEN
    assert rejected.value.retry_after == pytest.approx(30.0)


def test_a_breaker_closing_removes_its_own_shared_mark_but_not_a_peers() -> None:
    clock = Clock()
    store = InMemoryBreakerStateStore(clock=Clock())  # the store's clock stands still
    breaker = make_breaker(clock, state_store=store, store_sync_s=0, success_threshold=1)
    fail(breaker, _down(), 3)
    assert store.read_open("alpaca") is not None

    clock.advance(30)
    breaker.call(lambda: None)

    assert breaker.state is CircuitState.CLOSED
    assert store.read_open("alpaca") is None
    store.mark_open("alpaca", owner="peer", cooldown_s=30)
    store.clear("alpaca", owner="not-the-peer")
    assert store.read_open("alpaca") == SharedOpen(remaining_s=30, owner="peer")


def _down() -> Dependency:
    dependency = Dependency()
    dependency.down = True
    return dependency


def test_a_breaker_ignores_its_own_mark_in_the_store() -> None:
    clock = Clock()
    store_clock = Clock()  # the store's clock lags: its mark outlives the local cooldown
    store = InMemoryBreakerStateStore(clock=store_clock)
    breaker = make_breaker(clock, state_store=store, store_sync_s=0, success_threshold=1)
    fail(breaker, _down(), 3)

    clock.advance(30)

    assert breaker.call(lambda: "trial") == "trial"
    assert breaker.state is CircuitState.CLOSED


def test_the_store_is_read_at_most_once_per_sync_interval() -> None:
    clock = Clock()
    reads: list[str] = []

    class CountingStore(InMemoryBreakerStateStore):
        def read_open(self, name: str) -> SharedOpen | None:
            reads.append(name)
            return super().read_open(name)

    breaker = make_breaker(clock, state_store=CountingStore(clock=clock), store_sync_s=1.0)
    for _ in range(5):
        breaker.call(lambda: None)
    clock.advance(1.0)
    breaker.call(lambda: None)

    assert reads == ["alpaca", "alpaca"]


def test_a_failing_store_leaves_the_breaker_working_on_local_state() -> None:
    class BrokenStore:
        blocking = False

        def mark_open(self, name: str, *, owner: str, cooldown_s: float) -> None:
            raise ConnectionError("redis down")

        def read_open(self, name: str) -> SharedOpen | None:
            raise ConnectionError("redis down")

        def clear(self, name: str, *, owner: str) -> None:
            raise ConnectionError("redis down")

    clock = Clock()
    breaker = make_breaker(clock, state_store=BrokenStore(), store_sync_s=0)

    assert breaker.call(lambda: "ok") == "ok"
    fail(breaker, _down(), 3)
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: "never")

    assert breaker.snapshot()["store_healthy"] is False


def test_concurrent_failures_from_many_threads_open_the_breaker_exactly_once() -> None:
    breaker = make_breaker(Clock(), failure_threshold=50)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        for _ in range(100):
            try:
                breaker.call(_raise, ConnectionError())
            except CircuitOpenError:
                outcome = "rejected"
            except ConnectionError:
                outcome = "failed"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    calls = breaker.snapshot()["calls"]
    assert len(outcomes) == 800
    assert breaker.snapshot()["transitions"] == {"closed": 0, "open": 1, "half_open": 0}
    assert calls == {
        "admitted": outcomes.count("failed"),
        "failed": outcomes.count("failed"),
        "rejected": outcomes.count("rejected"),
    }
    assert outcomes.count("failed") >= 50


def test_the_breaker_registry_holds_breakers_by_name_and_snapshots_them() -> None:
    registry = BreakerRegistry()
    alpaca = CircuitBreaker("alpaca", registry=registry)
    CircuitBreaker("redis", registry=registry)

    assert registry.get("alpaca") is alpaca
    assert registry.names() == ["alpaca", "redis"]
    with pytest.raises(ValueError, match="already registered"):
        CircuitBreaker("alpaca", registry=registry)
    snapshot = json.loads(json.dumps(registry.snapshot()))
    assert snapshot["alpaca"]["state"] == "closed"
    assert snapshot["redis"]["failure_threshold"] == 5


def test_the_default_breaker_registry_is_one_per_process() -> None:
    assert default_breaker_registry() is default_breaker_registry()


def test_nonsensical_thresholds_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker("x", failure_threshold=0)
    with pytest.raises(ValueError, match="positive"):
        CircuitBreaker("x", cooldown_s=0)


def test_network_errors_raised_by_our_code_count_as_failures() -> None:
    breaker = make_breaker(Clock(), failure_threshold=1)

    with pytest.raises(NetworkError):
        breaker.call(_raise, NetworkError("stream dropped"))

    assert breaker.state is CircuitState.OPEN
