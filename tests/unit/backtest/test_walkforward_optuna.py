"""Walk-forward with Optuna's TPE search: seeded, batched through the pool, refusals pruned."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from stockyard.backtest import (
    Pool,
    WalkForwardResult,
    random_walk,
    walk_forward,
)
from stockyard.strategy import ParameterError

DATA = random_walk(4_000, seed=11)


def _optuna(*, pool: Pool | None = None, seed: int = 0, **overrides: object) -> WalkForwardResult:
    settings: dict[str, object] = {
        "strategy": "sma_cross", "space": {"fast": "2:20:2", "slow": "10:60:5"}, "train": 2_000,
        "test": 1_000, "objective": "total_return", "search": "optuna", "trials": 12,
        "batch": 4, "seed": seed, "pool": pool,
    }  # fmt: skip
    return walk_forward(DATA, **(settings | overrides))  # type: ignore[arg-type]


def _bytes(result: WalkForwardResult) -> bytes:
    return orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)


def _fast_below_slow(params: dict[str, str | int | float]) -> bool:
    fast, slow = params["fast"], params["slow"]
    return isinstance(fast, int) and isinstance(slow, int) and fast < slow


def test_the_same_seed_gives_byte_identical_json() -> None:
    assert _bytes(_optuna(seed=7)) == _bytes(_optuna(seed=7))


def test_another_seed_asks_other_trials() -> None:
    assert _optuna(seed=1).scores != _optuna(seed=2).scores


def test_each_window_trades_the_best_trial_and_reports_the_search() -> None:
    result = _optuna()
    doc = result.to_dict()
    assert (doc["search"], doc["trials"], doc["batch"], doc["seed"]) == ("optuna", 12, 4, 0)
    assert doc["combinations"] == 10 * 11  # the size of the space: fast 2..20 x slow 10..60
    for window, scores in zip(result.windows, result.scores, strict=True):
        assert window.in_sample == max(scores)
        assert window.searched + window.refused == 12
        assert window.searched == len(scores)
        assert window.params["fast"] in range(2, 21, 2)
        assert window.params["slow"] in range(10, 61, 5)
        assert _fast_below_slow(window.params)


def test_sets_the_strategy_refuses_are_pruned_and_counted_not_run() -> None:
    # Every fast in 20..40 against slow in 10..40: most pairs have fast >= slow.
    result = _optuna(space={"fast": "20:40:5", "slow": "10:40:10"}, trials=16)
    assert sum(w.refused for w in result.windows) > 0
    for window in result.windows:
        assert _fast_below_slow(window.params)
        assert window.searched + window.refused == 16


def test_a_space_the_strategy_refuses_entirely_is_a_clear_error() -> None:
    with pytest.raises(ParameterError, match="refused all 6 parameter sets Optuna asked for"):
        _optuna(space={"fast": "40:60:10", "slow": "10:30:10"}, trials=6)


def test_a_misspelt_parameter_is_refused_before_any_trial() -> None:
    with pytest.raises(ParameterError, match="did you mean 'fast'"):
        _optuna(space={"fsat": "2:20:2", "slow": "30"})


def test_float_ranges_give_the_values_the_grid_walks_and_lists_are_choices() -> None:
    result = walk_forward(
        DATA, strategy="mean_reversion",
        space={"entry_z": "0.5:2.5:0.1", "exit_z": [0.0, 0.3], "window": "10,20,40"},
        train=2_000, test=1_000, search="optuna", trials=10, batch=5,
    )  # fmt: skip
    grid_values = {round(0.5 + k * 0.1, 10) for k in range(21)}
    for window in result.windows:
        assert window.params["entry_z"] in grid_values  # 0.8, never 0.8000000000000002
        assert window.params["exit_z"] in (0.0, 0.3)
        assert window.params["window"] in (10, 20, 40)


def test_a_minimised_objective_picks_the_lowest_score() -> None:
    result = _optuna(objective="annual_volatility")
    assert result.direction == "minimize"
    for window, scores in zip(result.windows, result.scores, strict=True):
        assert window.in_sample == min(s for s in scores if s != float("-inf"))


def test_progress_counts_every_trial_and_test_run() -> None:
    seen: list[tuple[int, int]] = []
    _optuna(trials=10, batch=4, progress=lambda done, total: seen.append((done, total)))
    windows = 2
    total = windows * (10 + 1)
    assert seen == [(4 * windows, total), (8 * windows, total), (10 * windows, total),
                    (total, total)]  # fmt: skip


def test_optuna_writes_nothing_to_the_terminal(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="optuna"):
        _optuna(trials=4)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [r for r in caplog.records if r.name.startswith("optuna")] == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"trials": 0}, "need trials >= 1 and batch >= 1"),
        ({"batch": 0}, "need trials >= 1 and batch >= 1"),
        ({"seed": -1}, "seed of an Optuna search must be >= 0"),
        ({"search": "random"}, "unknown search 'random'"),
        ({"direction": "up"}, "direction must be maximize or minimize"),
        ({"space": {"fast": "5:x"}}, "parameter 'fast': bad range '5:x'"),
        ({"space": {"fast": "9:3"}}, "stop is below start"),
        ({"space": {"fast": "3:9:0"}}, "the step must be positive"),
        ({"space": {"fast": []}}, "parameter 'fast' has no values"),
    ],
)
def test_bad_search_settings_are_one_clear_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _optuna(**overrides)
