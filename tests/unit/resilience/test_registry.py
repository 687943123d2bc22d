"""The error registry: counts, fingerprints, history and recovery actions."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from stockyard.core import SimClock
from stockyard.resilience import (
    ErrorCategory,
    ErrorRegistry,
    NetworkError,
    OrderRejectedError,
    RecoveryOutcome,
    Severity,
    ValidationError,
    default_error_registry,
    fingerprint,
)


def test_errors_are_counted_by_category_and_by_severity() -> None:
    registry = ErrorRegistry()

    registry.record(NetworkError("reset"), component="data_pipeline")
    registry.record(ConnectionError("refused"), component="data_pipeline")
    registry.record(OrderRejectedError("no buying power"), component="trading")

    assert registry.total == 3
    assert registry.count(category=ErrorCategory.NETWORK) == 2
    assert registry.count(category=ErrorCategory.TRADING) == 1
    assert registry.count(severity=Severity.HIGH) == 1
    assert registry.count(severity=Severity.MEDIUM) == 2


def test_a_record_names_the_component_type_and_time() -> None:
    clock = SimClock(datetime(2024, 1, 2, 14, 30, tzinfo=UTC))
    registry = ErrorRegistry(clock=clock)

    record = registry.record(TimeoutError("read timed out"), component="trading")

    assert record.component == "trading"
    assert record.error_type == "TimeoutError"
    assert record.category is ErrorCategory.NETWORK
    assert record.retryable
    assert record.at == clock.now()


def test_numbers_hex_and_uuids_are_normalised_in_fingerprints() -> None:
    first = fingerprint(
        OrderRejectedError("order 12 for 3.5 shares id 0d5e8f3a-1b2c-4d5e-8f9a-0b1c2d3e4f5a")
    )
    second = fingerprint(
        OrderRejectedError("order 977 for 10 shares id 7a1b2c3d-0000-4d5e-8f9a-aabbccddeeff")
    )
    hexes = {fingerprint(NetworkError(f"socket {h} closed")) for h in ("0x7f3a2b", "a1b2c3d4e5")}

    assert first == second
    assert first == "trading:OrderRejectedError:order <n> for <n> shares id <uuid>"
    assert hexes == {"network:NetworkError:socket <hex> closed"}


def test_the_same_message_from_different_types_has_different_fingerprints() -> None:
    assert fingerprint(NetworkError("down")) != fingerprint(ValidationError("down"))


def test_top_errors_are_ranked_by_count_with_first_and_last_seen() -> None:
    clock = SimClock(datetime(2024, 1, 2, 14, 30, tzinfo=UTC))
    registry = ErrorRegistry(clock=clock)
    started = clock.now()
    for attempt in range(3):
        registry.record(NetworkError(f"attempt {attempt} reset"), component="data")
        clock.set(clock.now() + timedelta(seconds=10))
    registry.record(ValidationError("bad symbol"), component="api")

    top = registry.top(2)

    assert [s.count for s in top] == [3, 1]
    assert top[0].fingerprint == "network:NetworkError:attempt <n> reset"
    assert top[0].first_seen == started
    assert top[0].last_seen == started + timedelta(seconds=20)
    assert top[0].last_message == "attempt 2 reset"


def test_the_recent_list_keeps_only_the_newest_errors() -> None:
    registry = ErrorRegistry(recent=3)
    for n in range(5):
        registry.record(NetworkError(f"e{n}"), component="data")

    assert [r.message for r in registry.recent()] == ["e2", "e3", "e4"]
    assert registry.total == 5


def test_the_least_recently_seen_fingerprint_is_dropped_past_the_bound() -> None:
    registry = ErrorRegistry(max_fingerprints=2)
    registry.record(NetworkError("alpha"), component="x")
    registry.record(NetworkError("beta"), component="x")
    registry.record(NetworkError("alpha"), component="x")
    registry.record(NetworkError("gamma"), component="x")

    assert {s.last_message for s in registry.top()} == {"alpha", "gamma"}


def test_recovery_actions_are_recorded_with_their_outcome() -> None:
    clock = SimClock(datetime(2024, 1, 2, 14, 30, tzinfo=UTC))
    registry = ErrorRegistry(clock=clock)
    error = ConnectionError("refused")

    record = registry.record_recovery(error, action="reconnect", outcome=RecoveryOutcome.SUCCEEDED)

    assert registry.recoveries() == [record]
    assert record.category is ErrorCategory.NETWORK
    assert record.error_fingerprint == fingerprint(error)
    assert record.at == clock.now()


def test_the_snapshot_is_json_serialisable_and_complete() -> None:
    registry = ErrorRegistry()
    registry.record(NetworkError("reset 42"), component="data")
    registry.record_recovery(
        NetworkError("reset 42"), action="reconnect", outcome=RecoveryOutcome.FAILED
    )

    snapshot = json.loads(json.dumps(registry.snapshot()))

    assert snapshot["total"] == 1
    assert snapshot["by_category"]["network"] == 1
    assert snapshot["by_category"]["trading"] == 0
    assert snapshot["by_severity"]["medium"] == 1
    assert snapshot["top_errors"][0]["count"] == 1
    assert snapshot["recent"][0]["component"] == "data"
    assert snapshot["recovery_actions"]["counts"]["failed"] == 1
    assert snapshot["recovery_actions"]["recent"][0]["action"] == "reconnect"


def test_clear_forgets_everything() -> None:
    registry = ErrorRegistry()
    registry.record(NetworkError("x"), component="data")
    registry.record_recovery(NetworkError("x"), action="a", outcome=RecoveryOutcome.FAILED)

    registry.clear()

    assert registry.total == 0
    assert registry.top() == []
    assert registry.recent() == []
    assert registry.recoveries() == []


def test_recording_from_many_threads_loses_nothing() -> None:
    registry = ErrorRegistry(recent=10)
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for n in range(500):
            registry.record(NetworkError(f"reset {n}"), component="data")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert registry.total == 4000
    assert registry.top(1)[0].count == 4000
    assert len(registry.recent()) == 10


def test_the_default_registry_is_one_per_process() -> None:
    assert default_error_registry() is default_error_registry()
