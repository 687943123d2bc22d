"""The recovery registry and the reconnect helper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from stockyard.config import ConfigError
from stockyard.resilience import (
    ErrorCategory,
    ErrorRegistry,
    NetworkError,
    RecoveryOutcome,
    RecoveryRegistry,
    StockyardError,
    reconnect_with_backoff,
    reconnect_with_backoff_async,
)


class Sleeps(list[float]):
    """An injected sleep that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


def outcomes(registry: ErrorRegistry) -> list[tuple[str, RecoveryOutcome]]:
    return [(r.action, r.outcome) for r in registry.recoveries()]


def test_actions_run_in_order_until_one_succeeds() -> None:
    errors = ErrorRegistry()
    recovery = RecoveryRegistry(error_registry=errors)
    ran: list[str] = []

    def action(name: str, *, succeeds: bool) -> Callable[[StockyardError], bool]:
        def run(error: StockyardError) -> bool:
            ran.append(name)
            return succeeds

        return run

    recovery.register(ErrorCategory.NETWORK, "reconnect_primary", action("primary", succeeds=False))
    recovery.register(ErrorCategory.NETWORK, "reconnect_backup", action("backup", succeeds=True))
    recovery.register(ErrorCategory.NETWORK, "page_operator", action("page", succeeds=True))

    result = recovery.recover(ConnectionError("refused"))

    assert result.recovered
    assert ran == ["primary", "backup"]
    assert outcomes(errors) == [
        ("reconnect_primary", RecoveryOutcome.FAILED),
        ("reconnect_backup", RecoveryOutcome.SUCCEEDED),
    ]
    assert result.actions == tuple(errors.recoveries())


def test_an_action_receives_the_classified_error() -> None:
    recovery = RecoveryRegistry(error_registry=ErrorRegistry())
    seen: list[StockyardError] = []

    def inspect(error: StockyardError) -> bool:
        seen.append(error)
        return True

    recovery.register(ErrorCategory.NETWORK, "inspect", inspect)

    recovery.recover(TimeoutError("read timed out"))

    assert isinstance(seen[0], NetworkError)
    assert isinstance(seen[0].cause, TimeoutError)


def test_an_action_that_raises_is_recorded_and_the_next_one_is_tried() -> None:
    errors = ErrorRegistry()
    recovery = RecoveryRegistry(error_registry=errors)

    def broken(error: StockyardError) -> bool:
        raise RuntimeError("bug in recovery")

    recovery.register(ErrorCategory.NETWORK, "broken", broken)
    recovery.register(ErrorCategory.NETWORK, "reconnect", lambda error: True)

    result = recovery.recover(NetworkError("down"))

    assert result.recovered
    assert outcomes(errors) == [
        ("broken", RecoveryOutcome.ERRORED),
        ("reconnect", RecoveryOutcome.SUCCEEDED),
    ]
    assert "bug in recovery" in errors.recoveries()[0].detail


def test_an_error_with_no_actions_for_its_category_is_not_recovered() -> None:
    errors = ErrorRegistry()
    recovery = RecoveryRegistry(error_registry=errors)
    recovery.register(ErrorCategory.NETWORK, "reconnect", lambda error: True)

    result = recovery.recover(ConfigError("APCA_API_KEY_ID is missing"))

    assert not result.recovered
    assert result.actions == ()
    assert errors.recoveries() == []


def test_only_the_errors_category_is_consulted() -> None:
    recovery = RecoveryRegistry(error_registry=ErrorRegistry())
    recovery.register(ErrorCategory.DATA, "next_source", lambda error: True)

    assert not recovery.recover(ConnectionError()).recovered
    assert recovery.recover(StockyardError("gap", category=ErrorCategory.DATA)).recovered


def test_recover_async_awaits_async_actions_and_runs_sync_ones() -> None:
    errors = ErrorRegistry()
    recovery = RecoveryRegistry(error_registry=errors)

    async def reconcile(error: StockyardError) -> bool:
        await asyncio.sleep(0)
        return False

    recovery.register(ErrorCategory.TRADING, "reconcile", reconcile)
    recovery.register(ErrorCategory.TRADING, "halt_bot", lambda error: True)

    result = asyncio.run(
        recovery.recover_async(StockyardError("fill mismatch", category=ErrorCategory.TRADING))
    )

    assert result.recovered
    assert outcomes(errors) == [
        ("reconcile", RecoveryOutcome.FAILED),
        ("halt_bot", RecoveryOutcome.SUCCEEDED),
    ]


def test_recover_async_records_an_async_action_that_raises() -> None:
    errors = ErrorRegistry()
    recovery = RecoveryRegistry(error_registry=errors)

    async def broken(error: StockyardError) -> bool:
        raise ConnectionError("still down")

    recovery.register(ErrorCategory.NETWORK, "reconnect", broken)

    result = asyncio.run(recovery.recover_async(NetworkError("down")))

    assert not result.recovered
    assert outcomes(errors) == [("reconnect", RecoveryOutcome.ERRORED)]


def test_sync_recover_refuses_an_async_action_without_leaking_the_coroutine() -> None:
    errors = ErrorRegistry()
    recovery = RecoveryRegistry(error_registry=errors)

    async def reconnect(error: StockyardError) -> bool:
        return True

    recovery.register(ErrorCategory.NETWORK, "reconnect", reconnect)

    result = recovery.recover(NetworkError("down"))

    assert not result.recovered
    assert outcomes(errors) == [("reconnect", RecoveryOutcome.ERRORED)]
    assert "recover_async" in errors.recoveries()[0].detail


def test_action_names_are_unique_per_category_and_can_be_unregistered() -> None:
    recovery = RecoveryRegistry(error_registry=ErrorRegistry())
    recovery.register(ErrorCategory.DATA, "next_source", lambda error: True)
    recovery.register(ErrorCategory.NETWORK, "next_source", lambda error: True)

    with pytest.raises(ValueError, match="already registered"):
        recovery.register(ErrorCategory.DATA, "next_source", lambda error: False)
    recovery.unregister(ErrorCategory.DATA, "next_source")

    assert recovery.actions(ErrorCategory.DATA) == []
    assert recovery.actions(ErrorCategory.NETWORK) == ["next_source"]


def test_reconnect_with_backoff_retries_transient_failures_and_returns_the_connection() -> None:
    attempts: list[int] = []
    sleeps = Sleeps()

    def connect() -> str:
        attempts.append(len(attempts))
        if len(attempts) < 3:
            raise ConnectionRefusedError("refused")
        return "connection"

    assert reconnect_with_backoff(connect, sleep=sleeps) == "connection"
    assert len(attempts) == 3
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0]


def test_reconnect_with_backoff_gives_up_at_once_on_a_fatal_error() -> None:
    sleeps = Sleeps()

    def connect() -> str:
        raise ConfigError("APCA_API_SECRET_KEY is wrong")

    with pytest.raises(ConfigError):
        reconnect_with_backoff(connect, sleep=sleeps)
    assert sleeps == []


def test_reconnect_with_backoff_async_awaits_the_connection() -> None:
    sleeps = Sleeps()
    attempts: list[int] = []

    async def connect() -> str:
        attempts.append(1)
        if len(attempts) < 2:
            raise TimeoutError("handshake timed out")
        return "stream"

    result = asyncio.run(reconnect_with_backoff_async(connect, sleep=sleeps.async_sleep))

    assert result == "stream"
    assert len(sleeps) == 1
