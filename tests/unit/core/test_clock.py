"""``SimClock``: the datetime it answers always follows ``ns``, however ``ns`` is moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockyard.core import SimClock

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
T0_NS = 1_704_205_800_000_000_000


def test_now_follows_ns_written_directly_and_through_set() -> None:
    clock = SimClock(T0)
    assert clock.ns == T0_NS
    assert clock.now() == T0
    assert clock.now() == T0  # asked twice at one time: the same answer
    clock.ns += 60_000_000_000  # the replay loop's way
    assert clock.now() == T0 + timedelta(minutes=1)
    clock.set(T0 + timedelta(minutes=2, microseconds=7))
    assert clock.now() == T0 + timedelta(minutes=2, microseconds=7)
    clock.ns = T0_NS  # back again (the loop may only move forward; ``now`` must still follow)
    assert clock.now() == T0


def test_now_keeps_microseconds_and_drops_nanoseconds() -> None:
    clock = SimClock(T0_NS + 1_999)
    assert clock.now() == T0 + timedelta(microseconds=1)
    assert clock.now().tzinfo is UTC


def test_the_clock_refuses_to_go_back_through_set() -> None:
    clock = SimClock(T0_NS)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(T0_NS - 1)
    assert clock.now() == T0
