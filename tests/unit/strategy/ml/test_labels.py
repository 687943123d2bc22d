from __future__ import annotations

import numpy as np
import pytest

from stockyard.strategy.ml import (
    direction,
    forward_return,
    label_name,
    purged_split,
    triple_barrier,
)


def test_forward_return_looks_horizon_bars_ahead_and_is_unknown_at_the_end() -> None:
    close = np.array([100.0, 101.0, 102.0, 103.0])
    out = forward_return(close, 2)
    assert np.isclose(out[0], np.log(102 / 100))
    assert np.isnan(out[-2:]).all()


def test_direction_leaves_moves_inside_the_dead_band_unlabelled() -> None:
    close = np.array([100.0, 100.01, 101.0, 99.0])
    out = direction(close, 1, 0.001)
    assert np.isnan(out[0])
    assert out[1] == 1.0
    assert out[2] == 0.0
    assert np.isnan(out[3])


def test_triple_barrier_takes_the_first_barrier_touched() -> None:
    close = np.array([100.0, 100.0, 100.0, 100.0])
    high = np.array([100.0, 100.5, 102.0, 100.0])
    low = np.array([100.0, 98.5, 100.0, 100.0])
    out = triple_barrier(close, high, low, horizon=2, barrier=0.01)
    assert out[0] == 0.0  # the low barrier at bar 1 comes before the high one at bar 2
    assert np.isnan(out[2:]).all()


def test_purged_split_keeps_every_training_label_out_of_the_test_window() -> None:
    split = purged_split(1000, horizon=15, train=500, test=100, embargo=10)
    assert split is not None
    assert split.test_start == 900
    assert split.test_end == 1000
    last_label_bar = split.train_end - 1 + 15
    assert last_label_bar < split.test_start - 10 + 1
    assert split.train_end - split.train_start == 500


def test_purged_split_is_none_without_enough_rows_and_rejects_bad_sizes() -> None:
    assert purged_split(150, horizon=15, train=500, test=100, embargo=10) is None
    with pytest.raises(ValueError, match="horizon"):
        purged_split(100, horizon=0, train=10, test=10, embargo=0)


def test_targets_are_named_with_an_ampersand() -> None:
    assert label_name("direction", 15) == "&direction_15"
