"""Walk-forward windows and the optimisation over them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from stockyard.backtest import InlinePool, random_walk, walk_forward, windows
from stockyard.strategy import ParameterError


def test_rolling_windows_move_by_step_and_stop_at_the_last_full_one() -> None:
    cuts = windows(100, train=40, test=20, step=20)
    assert [(w.train_start, w.train_end, w.test_end) for w in cuts] == [
        (0, 40, 60),
        (20, 60, 80),
        (40, 80, 100),
    ]


def test_anchored_windows_all_train_from_the_first_bar() -> None:
    cuts = windows(100, train=40, test=30, anchored=True)
    assert [(w.train_start, w.train_end, w.test_end) for w in cuts] == [(0, 40, 70), (0, 70, 100)]


def test_too_few_bars_for_one_window_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no window"):
        windows(50, train=40, test=20)


def test_each_window_trades_out_of_sample_the_parameters_best_in_sample() -> None:
    data = random_walk(6_000, seed=4)
    result = walk_forward(
        data,
        strategy="sma_cross",
        space={"fast": [3, 8], "slow": [20, 40]},
        train=2_000,
        test=1_000,
        objective="total_return",
    )
    assert len(result.windows) == 4
    for window, scores in zip(result.windows, result.scores, strict=True):
        assert window.in_sample == max(scores)
        assert window.test[0] == window.train[1]  # the test part starts where training ends
        assert window.test_results.equity.timestamps[0] >= window.test[0]
    assert len(result.equity) == 4 * 1_000
    assert [row["window"] for row in result.stability()] == [0, 1, 2, 3]
    assert result.efficiency is not None


def test_unknown_objective_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown objective"):
        walk_forward(
            random_walk(3_000), strategy="sma_cross", space={"fast": [5]}, train=1_000,
            test=500, objective="sharp", pool=InlinePool(),
        )  # fmt: skip


def test_the_same_walk_forward_twice_gives_identical_json() -> None:
    data = random_walk(4_000, seed=1)

    def once() -> bytes:
        result = walk_forward(
            data, strategy="sma_cross", space={"fast": [4, 6]}, train=2_000, test=1_000
        )
        return orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)

    assert once() == once()


def test_combinations_the_strategy_refuses_are_left_out_of_the_search() -> None:
    result = walk_forward(
        random_walk(3_000, seed=2),
        strategy="sma_cross",
        space={"fast": [5, 30], "slow": [20, 30]},  # (30, 20) and (30, 30) are not crossovers
        train=1_000,
        test=500,
    )
    assert result.combinations == 2
    assert {(w.params["fast"], w.params["slow"]) for w in result.windows} <= {(5, 20), (5, 30)}


def test_a_space_with_no_valid_combination_is_a_clear_error() -> None:
    with pytest.raises(ParameterError, match="no combination of the parameter space is valid"):
        walk_forward(
            random_walk(3_000), strategy="sma_cross", space={"fast": [40], "slow": [20]},
            train=1_000, test=500,
        )  # fmt: skip


def test_a_space_given_as_text_or_a_range_walks_the_same_grid_as_the_list() -> None:
    data = random_walk(3_000, seed=6)

    def scores(space: dict[str, object]) -> tuple[tuple[float, ...], ...]:
        result = walk_forward(data, strategy="sma_cross", space=space, train=1_000, test=500)  # type: ignore[arg-type]
        return result.scores

    expected = scores({"fast": [3, 8], "slow": [20, 30, 40]})
    assert scores({"fast": "3,8", "slow": "20:40:10"}) == expected
    assert scores({"fast": range(3, 9, 5), "slow": range(20, 41, 10)}) == expected
    assert scores({"fast": "3:12:5", "slow": "20:45:10"}) == expected  # stops on the steps


def test_no_parameters_walk_forward_the_strategys_defaults() -> None:
    result = walk_forward(random_walk(3_000, seed=2), strategy="sma_cross", space={},
                          train=1_000, test=500)  # fmt: skip
    assert result.combinations == 1
    assert all(w.params == {} for w in result.windows)


def test_volatility_is_minimised_unless_told_otherwise() -> None:
    data = random_walk(3_000, seed=3)
    space = {"fast": [2, 5, 10], "slow": [30]}
    low = walk_forward(data, strategy="sma_cross", space=space, train=1_000, test=500,
                       objective="annual_volatility")  # fmt: skip
    assert low.direction == "minimize"
    for window, scores in zip(low.windows, low.scores, strict=True):
        assert window.in_sample == min(scores)
    high = walk_forward(data, strategy="sma_cross", space=space, train=1_000, test=500,
                        objective="annual_volatility", direction="maximize")  # fmt: skip
    for window, scores in zip(high.windows, high.scores, strict=True):
        assert window.in_sample == max(scores)


def test_a_grid_result_says_how_it_searched() -> None:
    doc: Any = walk_forward(random_walk(3_000), strategy="sma_cross", space={"fast": [5]},
                            train=1_000, test=500).to_dict()  # fmt: skip
    assert (doc["search"], doc["direction"], doc["combinations"]) == ("grid", "maximize", 1)
    assert "trials" not in doc
    assert [(w["train_bars"], w["test_bars"], w["searched"]) for w in doc["windows"]] == [
        (1_000, 500, 1)
    ] * 4
