"""The runner benchmark runs and reports what it promises (tiny size: no timing asserted)."""

from __future__ import annotations

from stockyard.bench import run_runner_benchmark


def test_the_runner_benchmark_reports_bars_per_second_with_and_without_fills() -> None:
    result = run_runner_benchmark(bars=5_000)
    assert result["bars"] == 5_000
    assert result["bars_per_s"] > 0
    assert result["bars_per_s_with_fills"] > 0
    assert result["orders_with_fills"] > 0
