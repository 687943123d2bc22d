from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from stockyard.core import Bar, Quote, Trade, to_ns
from stockyard.data import SyntheticSource
from stockyard.sandbox import ReplayClock, SynthesisConfig, Timeline, parse_speed

OPEN = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # a Monday, 09:30 New York


class FakeWall:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "speed"), [("60", 60.0), ("max", math.inf), ("0", 0.0), ("paused", 0.0), (1, 1.0)]
)
def test_speeds_parse(text: str | float, speed: float) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["-1", "fast", "nan"])
def test_bad_speeds_are_refused_with_the_rule(text: str) -> None:
    with pytest.raises(ValueError, match="speed must be"):
        parse_speed(text)


def test_the_clock_runs_at_speed_times_wall_time_and_never_goes_back() -> None:
    wall = FakeWall()
    clock = ReplayClock(OPEN, speed=60, wall=wall)
    wall.now = 2.0
    assert clock.now() == OPEN + timedelta(minutes=2)
    clock.set(OPEN)  # backwards: ignored
    assert clock.now() == OPEN + timedelta(minutes=2)
    clock.set_speed(0)
    wall.now = 100.0
    assert clock.now() == OPEN + timedelta(minutes=2)


def test_the_timeline_releases_ticks_then_each_bar_when_it_closes() -> None:
    timeline = Timeline(
        SyntheticSource(seed=1), ["AAPL", "BTC/USD"], OPEN, synthesis=SynthesisConfig()
    )
    first_minute = timeline.pop_until(to_ns(OPEN + timedelta(minutes=1)))
    kinds = {type(e.value) for e in first_minute}
    assert kinds == {Bar, Quote, Trade}
    dues = [e.due_ns for e in first_minute]
    assert dues == sorted(dues)
    bars = [e for e in first_minute if isinstance(e.value, Bar)]
    assert {b.value.symbol for b in bars} == {"AAPL", "BTC/USD"}
    assert all(b.due_ns == to_ns(b.value.timestamp) + 60 * 10**9 for b in bars)
    assert timeline.peek_ns() is not None
    assert timeline.peek_ns() > to_ns(OPEN + timedelta(minutes=1))  # type: ignore[operator]


def test_the_timeline_is_deterministic() -> None:
    def values() -> list[object]:
        timeline = Timeline(SyntheticSource(seed=3), ["MSFT"], OPEN, synthesis=SynthesisConfig())
        return [e.value for e in timeline.pop_until(to_ns(OPEN + timedelta(minutes=5)))]

    assert values() == values()
