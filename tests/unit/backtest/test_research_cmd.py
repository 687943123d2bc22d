"""``stockyard sweep`` and ``stockyard montecarlo`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from stockyard.cli._research_cmd import register


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    bench = typer.Typer()
    register(root, bench)
    root.add_typer(bench, name="bench")
    return root


@pytest.fixture
def csv_file(tmp_path: Path, minute_bars: pa.Table) -> Path:
    frame = minute_bars.select(["timestamp", "open", "high", "low", "close", "volume"]).to_pandas()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "aapl.csv"
    frame.to_csv(path, index=False)
    return path


def _sweep(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["sweep", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_sweep_of_a_users_csv_prints_json_and_writes_results_and_a_report(
    app: typer.Typer, csv_file: Path, tmp_path: Path
) -> None:
    results = tmp_path / "best.json"
    report = tmp_path / "sweep.html"
    code, out, err = _sweep(
        app,
        "--param",
        "fast=5:20:5",
        "--param",
        "slow=20:60:20",
        "--symbols",
        "AAPL",
        "--data",
        str(csv_file),
        "--results",
        str(results),
        "--report",
        str(report),
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    item = data["symbols"][0]
    assert item["combinations"] == 11  # (20, 20) is skipped
    assert {"final_equity", "total_return", "sharpe", "max_drawdown", "num_trades"} <= set(
        item["metrics"]
    )
    assert item["best"]["sharpe"] == max(r["sharpe"] for r in item["rows"] if r["sharpe"])
    assert json.loads(results.read_bytes())["params"]["fast"] == item["best"]["fast"]
    assert "plotly-graph-div" in report.read_text(encoding="utf-8")

    mc = CliRunner().invoke(
        app, ["montecarlo", "--results", str(results), "--paths", "500", "--seed", "3", "--json"]
    )
    assert mc.exit_code == 0, mc.stderr
    runs = json.loads(mc.stdout)["runs"]
    assert [r["method"] for r in runs] == ["trades", "permutation", "blocks", "delay"]
    again = CliRunner().invoke(
        app, ["montecarlo", "--results", str(results), "--paths", "500", "--seed", "3", "--json"]
    )
    assert again.stdout == mc.stdout


def test_the_same_sweep_twice_gives_byte_identical_results(
    app: typer.Typer, csv_file: Path, tmp_path: Path
) -> None:
    outputs = []
    for name in ("a.json", "b.json"):
        code, _, err = _sweep(
            app,
            "--param",
            "fast=3,8",
            "--param",
            "slow=30",
            "--symbols",
            "AAPL",
            "--data",
            str(csv_file),
            "--results",
            str(tmp_path / name),
            "--fee-bps",
            "1",
        )
        assert code == 0, err
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "fast=5:x"], "bad range"),
        (["--param", "speed=5"], "fast=START:STOP:STEP"),
        (["--param", "fast=50", "--param", "slow=20"], "fast < slow"),
        (["--metric", "luck"], "--metric"),
        (["--slippage-bps", "-1"], "slippage_bps"),
        (["--start", "2024-13-01"], "not a date"),
    ],
)
def test_bad_sweep_input_is_one_line_and_exit_2(
    app: typer.Typer, csv_file: Path, args: list[str], message: str
) -> None:
    code, _, err = _sweep(app, "--symbols", "AAPL", "--data", str(csv_file), *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_a_sweep_without_stored_data_says_how_to_get_some(app: typer.Typer) -> None:
    code, _, err = _sweep(app, "--symbols", "ZZZZ", "--start", "2024-01-02", "--end", "2024-01-05")
    assert code == 2
    assert "stockyard data generate" in err


def test_a_bad_data_file_changes_nothing_and_names_the_line(
    app: typer.Typer, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2024-01-02T14:30:00Z,1,2,0.5,x,10\n")
    code, _, err = _sweep(app, "--symbols", "AAPL", "--data", str(bad))
    assert code == 2
    assert "line 2" in err


@pytest.mark.parametrize(
    ("content", "message"), [(None, "does not exist"), (b"{}", "not a results document")]
)
def test_montecarlo_refuses_a_missing_or_foreign_file(
    app: typer.Typer, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "r.json"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(app, ["montecarlo", "--results", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr


def test_bench_montecarlo_reports_its_figures(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["bench", "montecarlo", "--paths", "200", "--steps", "100", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["paths"] == 200
    assert figures["steps"] == 100
    assert figures["wall_s"] > 0


def test_montecarlo_of_a_strategy_backtests_it_first_then_of_the_stored_run_agrees(
    app: typer.Typer, csv_file: Path
) -> None:
    args = ["--paths", "300", "--seed", "2", "--method", "trades", "--method", "blocks", "--json"]
    first = CliRunner().invoke(
        app,
        ["montecarlo", "--strategy", "sma_cross", "--data", str(csv_file), "--param", "fast=5",
         "--param", "slow=20", *args],
    )  # fmt: skip
    assert first.exit_code == 0, first.stderr
    doc = json.loads(first.stdout)
    run_id = doc["results"]
    assert [r["method"] for r in doc["runs"]] == ["trades", "blocks"]
    stored = CliRunner().invoke(app, ["montecarlo", "--run", run_id, *args])
    assert stored.exit_code == 0, stored.stderr
    assert json.loads(stored.stdout) == doc  # the same run, seed and paths: the same numbers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give one of --results FILE, --run ID or --strategy NAME"),
        (["--run", "abc", "--strategy", "sma_cross"], "got ['--run', '--strategy']"),
        (["--run", "nope"], "no stored backtest 'nope' (see: stockyard backtest ls)"),
        (["--strategy", "sma_crass", "--symbols", "AAPL", "--start", "2024-03-04",
          "--end", "2024-03-04", "--source", "synthetic"], "did you mean 'sma_cross'"),
    ],
)  # fmt: skip
def test_montecarlo_needs_exactly_one_run_and_says_what_is_wrong(
    app: typer.Typer, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["montecarlo", *args])
    assert result.exit_code == 2
    assert message in result.stderr
