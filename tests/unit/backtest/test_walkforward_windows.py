"""Walk-forward windows given in time (``30d``, ``12h``, ``2w``) as well as in bars."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from stockyard.backtest import BarData, random_walk, walk_forward
from stockyard.backtest._walkforward_windows import parse_span, resolve_windows

MINUTE = 60 * 10**9
HOUR = 60 * MINUTE


def _cuts(timeline: np.ndarray, end_ns: int, **spans: object) -> list[tuple[int, int, int]]:
    found = resolve_windows(timeline, end_ns, **spans)  # type: ignore[arg-type]
    return [(w.train_start, w.train_end, w.test_end) for w in found]


def test_a_bar_count_as_text_gives_the_same_windows_as_the_number() -> None:
    timeline = np.arange(100, dtype=np.int64) * MINUTE
    as_text = _cuts(timeline, 100 * MINUTE, train="40", test="20", step="20")
    assert as_text == _cuts(timeline, 100 * MINUTE, train=40, test=20, step=20)
    assert as_text == [(0, 40, 60), (20, 60, 80), (40, 80, 100)]


def test_durations_on_minute_bars_cut_at_those_times() -> None:
    timeline = np.arange(10 * 60, dtype=np.int64) * MINUTE  # ten hours of minute bars
    cuts = _cuts(timeline, 10 * HOUR, train="4h", test="2h", step="1h")
    assert cuts == [(0, 240, 360), (60, 300, 420), (120, 360, 480), (180, 420, 540),
                    (240, 480, 600)]  # fmt: skip
    anchored = _cuts(timeline, 10 * HOUR, train="4h", test="2h", anchored=True)
    assert anchored == [(0, 240, 360), (0, 360, 480), (0, 480, 600)]  # step defaults to test


def test_units_and_timedeltas_mean_the_same_durations() -> None:
    assert parse_span("2w", name="train") == timedelta(days=14)
    assert parse_span("30d", name="train") == timedelta(days=30)
    assert parse_span("1.5h", name="train") == timedelta(minutes=90)
    assert parse_span("90m", name="train") == parse_span("90min", name="train")
    assert parse_span("45s", name="train") == timedelta(seconds=45)
    assert parse_span(timedelta(hours=3), name="train") == timedelta(hours=3)
    assert parse_span(" 500 ", name="train") == 500


def test_a_window_whose_test_part_falls_in_a_gap_is_left_out() -> None:
    # Bars 09:00-17:00 on three days; the nights hold none.
    days = [d * 24 * HOUR + 9 * HOUR + np.arange(8 * 60, dtype=np.int64) * MINUTE for d in range(3)]
    timeline = np.concatenate(days)
    cuts = _cuts(timeline, int(timeline[-1]) + MINUTE, train="1d", test="6h", step="6h")
    # Windows start every 6h from 09:00 on day 0; the two testing only a night are gone.
    assert cuts == [(0, 480, 840), (360, 840, 960), (480, 960, 1320)]


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ({"train": "0", "test": "10"}, "train must be positive"),
        ({"train": 40, "test": -5}, "test must be positive"),
        ({"train": "-3d", "test": "1d"}, "train must be positive"),
        ({"train": "40", "test": "10", "step": "0h"}, "step must be positive"),
        ({"train": "3x", "test": "10"}, "train '3x' is not a bar count or a duration"),
        ({"train": "ten", "test": "10"}, "use e.g. 500 (bars), 90m, 12h, 30d or 2w"),
        ({"train": "2d", "test": "500"}, "all as bar counts or all as durations"),
        ({"train": "40", "test": "20", "step": "1h"}, "all as bar counts or all as durations"),
        ({"train": "1d", "test": "30d"}, "test 30d is longer than the data (1d 16h)"),
        ({"train": "2d", "test": "12h"}, "hold no window of train 2d + test 12h"),
        ({"train": 10, "test": 5000}, "test of 5000 bars is longer than the data (2400 bars)"),
        ({"train": 2000, "test": 500}, "2400 bars hold no window of train 2000 + test 500"),
        ({"train": True, "test": 10}, "train must be a bar count or a duration"),
    ],
)
def test_bad_windows_are_one_clear_error(spans: dict[str, object], message: str) -> None:
    data = random_walk(2_400)  # 40 hours of minute bars
    with pytest.raises(ValueError, match=re.escape(message)):
        walk_forward(data, strategy="sma_cross", space={"fast": [5]}, **spans)  # type: ignore[arg-type]


def test_a_walk_forward_in_days_tests_each_day_after_its_training_days() -> None:
    data = random_walk(5 * 1_440, seed=5)  # five days of minute bars, around the clock
    result = walk_forward(
        data, strategy="sma_cross", space={"fast": [3, 8], "slow": [30]}, train="2d", test="1d",
        objective="total_return",
    )  # fmt: skip
    assert len(result.windows) == 3
    day = 24 * HOUR
    for k, window in enumerate(result.windows):
        assert window.train == (data.start_ns + k * day, data.start_ns + (k + 2) * day)
        assert window.test == (data.start_ns + (k + 2) * day, data.start_ns + (k + 3) * day)
    rows: Any = result.to_dict()["windows"]
    assert [(r["train_bars"], r["test_bars"]) for r in rows] == [(2_880, 1_440)] * 3
    assert len(result.equity) == 3 * 1_440


def test_several_symbols_share_one_timeline() -> None:
    one = random_walk(600, seed=1, symbol="AAA")
    other = random_walk(300, seed=2, symbol="BBB", start_ns=one.start_ns + 300 * MINUTE)
    data = BarData(symbols=(*one.symbols, *other.symbols), span_ns=MINUTE, timeframe=one.timeframe)
    result = walk_forward(
        data, strategy="sma_cross", space={"fast": [3], "slow": [10]}, train="4h", test="1h"
    )
    assert [(w.window.train_start, w.window.test_end) for w in result.windows] == [
        (0, 300), (60, 360), (120, 420), (180, 480), (240, 540), (300, 600),
    ]  # fmt: skip
