"""``stockyard bench frozen``: every figure is measured and positive."""

from __future__ import annotations

from stockyard.bench import run_frozen_benchmark


def test_the_frozen_benchmark_times_each_way_to_copy_and_make() -> None:
    figures = run_frozen_benchmark(calls=1_000)

    assert figures["calls"] == 1_000
    timed = [key for key in figures if key.endswith("_ns")]
    assert len(timed) == 6
    assert all(figures[key] > 0 for key in timed)
