"""``stockyard walkforward`` as a user runs it: windows in time, Optuna, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from stockyard.cli._backtest_cmd import register


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    bench = typer.Typer()
    register(root, bench)
    root.add_typer(bench, name="bench")
    return root


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three days of one-minute bars, around the clock."""
    rng = np.random.default_rng(5)
    n = 3 * 1440
    close = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)
    opens = np.concatenate([[50.0], close[:-1]])
    high, low = np.maximum(opens, close) + 0.05, np.minimum(opens, close) - 0.05
    stamps = np.datetime64("2024-03-04T00:00") + np.arange(n).astype("timedelta64[m]")
    lines = ["timestamp,open,high,low,close,volume"]
    for t, o, h, lo, c in zip(stamps, opens, high, low, close, strict=True):
        lines.append(f"{t}Z,{o:.2f},{h:.2f},{lo:.2f},{c:.2f},1000")
    path = tmp_path_factory.mktemp("bars") / "mine.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _walkforward(app: typer.Typer, csv_file: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["walkforward", "--strategy", "sma_cross", "--data", str(csv_file), "--workers", "1",
              *args],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


OPTUNA_IN_TIME = ("--param", "fast=2:20:2", "--param", "slow=10:60:10", "--train", "1d",
                  "--test", "12h", "--search", "optuna", "--trials", "6", "--batch", "3",
                  "--seed", "4", "--objective", "total_return")  # fmt: skip


def test_an_optuna_walk_forward_in_time_prints_json_and_twice_the_same_bytes(
    app: typer.Typer, csv_file: Path
) -> None:
    code, out, err = _walkforward(app, csv_file, *OPTUNA_IN_TIME, "--json")
    assert code == 0, err
    assert err == ""  # Optuna says nothing per trial
    doc = json.loads(out)
    assert (doc["search"], doc["trials"], doc["batch"], doc["seed"]) == ("optuna", 6, 3, 4)
    assert [(w["train_start"], w["test_start"]) for w in doc["windows"]] == [
        ("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"),
        ("2024-03-04T12:00:00Z", "2024-03-05T12:00:00Z"),
        ("2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z"),
        ("2024-03-05T12:00:00Z", "2024-03-06T12:00:00Z"),
    ]
    for window in doc["windows"]:
        assert (window["train_bars"], window["test_bars"]) == (1440, 720)
        assert window["searched"] + window["refused"] == 6
        assert window["params"]["fast"] < window["params"]["slow"]
    assert [row["window"] for row in doc["stability"]] == [0, 1, 2, 3]
    assert _walkforward(app, csv_file, *OPTUNA_IN_TIME, "--json")[1] == out


def test_the_table_names_the_search_and_the_efficiency(app: typer.Typer, csv_file: Path) -> None:
    code, out, err = _walkforward(app, csv_file, *OPTUNA_IN_TIME)
    assert code == 0, err
    assert "maximize total_return (optuna, 6 trials a window, seed 4)" in out
    assert "walk-forward efficiency (out of sample / in sample):" in out


def test_a_grid_walk_forward_in_bars_still_works(app: typer.Typer, csv_file: Path) -> None:
    code, out, err = _walkforward(
        app, csv_file, "--param", "fast=3,5", "--param", "slow=20", "--train", "2000", "--test",
        "1000", "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["search"], doc["combinations"], len(doc["windows"])) == ("grid", 2, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--train", "0", "--test", "100"), "train must be positive, got '0'"),
        (("--train=-2d", "--test", "1d"), "train must be positive, got '-2d'"),
        (("--train", "1d", "--test", "100", "--step", "0"), "step must be positive"),
        (("--train", "1d", "--test", "5d"), "test 5d is longer than the data (3d)"),
        (("--train", "ten", "--test", "100"), "train 'ten' is not a bar count or a duration"),
        (("--train", "1d", "--test", "500"), "all as bar counts or all as durations"),
        (("--train", "100", "--test", "50", "--search", "tpe"), "--search must be grid or optuna"),
        (("--train", "100", "--test", "50", "--direction", "up"), "--direction must be auto"),
        (("--train", "100", "--test", "50", "--search", "optuna", "--trials", "0"), "trials >= 1"),
        (("--train", "100", "--test", "50", "--param", "fast=9:3"), "stop is below start"),
        (("--train", "100", "--test", "50", "--param", "fsat=3:9"), "did you mean 'fast'"),
        (("--train", "100", "--test", "50", "--param", "fast=40", "--param", "slow=20"),
         "no combination of the parameter space is valid"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    app: typer.Typer, csv_file: Path, args: tuple[str, ...], message: str
) -> None:
    code, _, err = _walkforward(app, csv_file, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]
