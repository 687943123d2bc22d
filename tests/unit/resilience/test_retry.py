"""Retry policies per category: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import asyncio

import pytest
import tenacity

from stockyard.resilience import (
    RETRY_POLICIES,
    CircuitOpenError,
    DataUnavailableError,
    ErrorCategory,
    ErrorRegistry,
    NetworkError,
    OrderRejectedError,
    RateLimitedError,
    ValidationError,
    async_retry_policy,
    retry_policy,
    retrying,
)


class Flaky:
    """Raises each error in ``errors`` on successive calls, then returns "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"

    async def async_call(self) -> str:
        return self()


class Sleeps(list[float]):
    """An injected sleep that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


def test_every_category_has_exactly_one_policy() -> None:
    assert set(RETRY_POLICIES) == set(ErrorCategory)


def test_retryable_errors_are_retried_until_the_call_succeeds() -> None:
    flaky = Flaky(ConnectionError("refused"), TimeoutError("slow"))
    sleeps = Sleeps()

    result = retry_policy(ErrorCategory.NETWORK, sleep=sleeps)(flaky)

    assert result == "done"
    assert flaky.calls == 3
    assert len(sleeps) == 2


def test_a_fatal_error_is_raised_at_once_without_waiting() -> None:
    flaky = Flaky(ValidationError("qty must be positive"))
    sleeps = Sleeps()

    with pytest.raises(ValidationError):
        retry_policy(ErrorCategory.NETWORK, sleep=sleeps)(flaky)

    assert flaky.calls == 1
    assert sleeps == []


def test_after_the_last_attempt_the_last_error_itself_is_raised() -> None:
    errors = [ConnectionError(f"refused {n}") for n in range(5)]
    flaky = Flaky(*errors)

    with pytest.raises(ConnectionError) as caught:
        retry_policy(ErrorCategory.NETWORK, sleep=Sleeps())(flaky)

    assert caught.value is errors[-1]
    assert flaky.calls == RETRY_POLICIES[ErrorCategory.NETWORK].max_attempts


def test_network_waits_grow_exponentially_within_the_jitter_and_the_cap() -> None:
    policy = RETRY_POLICIES[ErrorCategory.NETWORK]
    sleeps = Sleeps()

    with pytest.raises(ConnectionError):
        retry_policy(ErrorCategory.NETWORK, max_attempts=9, sleep=sleeps)(
            Flaky(*[ConnectionError()] * 9)
        )

    assert len(sleeps) == 8
    for n, wait in enumerate(sleeps):
        floor = min(policy.base_wait_s * 2**n, policy.max_wait_s)
        assert floor <= wait <= min(floor + policy.jitter_s, policy.max_wait_s)
    assert sleeps[-1] == policy.max_wait_s


def test_the_api_policy_waits_as_long_as_the_rate_limit_asks() -> None:
    sleeps = Sleeps()

    retry_policy(ErrorCategory.API, sleep=sleeps)(Flaky(RateLimitedError("429", retry_after=7.5)))

    assert sleeps == [7.5]


def test_a_retry_after_hint_is_capped_by_the_policy() -> None:
    sleeps = Sleeps()

    retry_policy(ErrorCategory.API, sleep=sleeps)(Flaky(RateLimitedError("429", retry_after=3600)))

    assert sleeps == [RETRY_POLICIES[ErrorCategory.API].max_wait_s]


def test_the_network_policy_waits_for_an_open_circuit_to_half_open() -> None:
    sleeps = Sleeps()

    retry_policy(ErrorCategory.NETWORK, sleep=sleeps)(
        Flaky(CircuitOpenError("alpaca", retry_after=4.0))
    )

    assert sleeps == [4.0]


@pytest.mark.parametrize("category", [ErrorCategory.TRADING, ErrorCategory.VALIDATION])
def test_trading_and_validation_never_retry_even_a_retryable_error(
    category: ErrorCategory,
) -> None:
    flaky = Flaky(NetworkError("submit timed out"))
    sleeps = Sleeps()

    with pytest.raises(NetworkError):
        retry_policy(category, sleep=sleeps)(flaky)

    assert flaky.calls == 1
    assert sleeps == []


def test_the_data_policy_makes_few_attempts() -> None:
    flaky = Flaky(*[DataUnavailableError("no bars")] * 5)

    with pytest.raises(DataUnavailableError):
        retry_policy(ErrorCategory.DATA, sleep=Sleeps())(flaky)

    assert flaky.calls == 2


def test_max_attempts_can_be_overridden_but_not_below_one() -> None:
    flaky = Flaky(*[ConnectionError()] * 5)

    with pytest.raises(ConnectionError):
        retry_policy(ErrorCategory.NETWORK, max_attempts=2, sleep=Sleeps())(flaky)
    with pytest.raises(ValueError, match="at least 1"):
        retry_policy(ErrorCategory.NETWORK, max_attempts=0)

    assert flaky.calls == 2


def test_each_failed_attempt_is_recorded_in_the_given_registry() -> None:
    registry = ErrorRegistry()

    with pytest.raises(ConnectionError):
        retry_policy(
            ErrorCategory.NETWORK,
            max_attempts=3,
            sleep=Sleeps(),
            registry=registry,
            component="bus",
        )(Flaky(*[ConnectionError("refused")] * 3))

    assert registry.total == 3
    assert {r.component for r in registry.recent()} == {"bus"}


def test_the_policy_works_as_a_tenacity_attempt_loop() -> None:
    flaky = Flaky(ConnectionError())
    result = None

    for attempt in retry_policy(ErrorCategory.NETWORK, sleep=Sleeps()):
        with attempt:
            result = flaky()

    assert result == "done"
    assert isinstance(retry_policy(ErrorCategory.NETWORK), tenacity.Retrying)


def test_the_async_policy_retries_with_an_awaited_sleep() -> None:
    flaky = Flaky(ConnectionError(), TimeoutError())
    sleeps = Sleeps()

    async def scenario() -> str:
        policy = async_retry_policy(ErrorCategory.NETWORK, sleep=sleeps.async_sleep)
        return await policy(flaky.async_call)

    assert asyncio.run(scenario()) == "done"
    assert len(sleeps) == 2


def test_the_async_policy_raises_fatal_errors_at_once() -> None:
    flaky = Flaky(OrderRejectedError("rejected"))
    sleeps = Sleeps()

    async def scenario() -> str:
        policy = async_retry_policy(ErrorCategory.API, sleep=sleeps.async_sleep)
        return await policy(flaky.async_call)

    with pytest.raises(OrderRejectedError):
        asyncio.run(scenario())
    assert sleeps == []


def test_the_decorator_retries_sync_and_async_functions() -> None:
    sleeps = Sleeps()
    flaky = Flaky(ConnectionError(), ConnectionError())

    @retrying(category=ErrorCategory.NETWORK, sleep=sleeps, async_sleep=sleeps.async_sleep)
    def fetch(symbol: str) -> str:
        return f"{symbol}:{flaky()}"

    @retrying(category=ErrorCategory.NETWORK, sleep=sleeps, async_sleep=sleeps.async_sleep)
    async def fetch_async(symbol: str) -> str:
        return f"{symbol}:{flaky()}"

    assert fetch("AAPL") == "AAPL:done"
    flaky.errors = [TimeoutError()]
    assert asyncio.run(fetch_async("MSFT")) == "MSFT:done"
    assert len(sleeps) == 3
    assert fetch.__name__ == "fetch"


def test_cancellation_is_never_retried() -> None:
    flaky = Flaky(KeyboardInterrupt())

    with pytest.raises(KeyboardInterrupt):
        retry_policy(ErrorCategory.NETWORK, sleep=Sleeps())(flaky)

    assert flaky.calls == 1
