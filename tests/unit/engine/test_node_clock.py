"""The venue clock: the newest venue time seen, never back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockyard.engine import VenueClock

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def test_it_moves_forward_with_the_venue_and_never_back() -> None:
    clock = VenueClock()
    assert not clock.seeded
    clock.seed(T0)
    assert clock.seeded
    clock.observe(T0 + timedelta(seconds=15))
    clock.observe(T0 + timedelta(seconds=5))  # a late event does not move time back
    assert clock.now() == T0 + timedelta(seconds=15)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        VenueClock(datetime(2024, 3, 4, 15, 0))  # the naive value is the point
