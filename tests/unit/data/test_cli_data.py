"""``stockyard data``: generate, import, ls and show, through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockyard.cli._data import SAMPLE_SYMBOLS, data_app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STOCKYARD_HOME", str(tmp_path))
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(data_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_generate_with_no_options_makes_the_sample_set(home: Path) -> None:
    code, out, _ = run("generate", "--json")
    assert code == 0
    summary = json.loads(out)
    assert [s["symbol"] for s in summary["symbols"]] == list(SAMPLE_SYMBOLS)
    assert all(s["rows"] > 0 for s in summary["symbols"])
    assert summary["seed"] == 42
    assert Path(summary["root"]) == home / "data"


def test_generate_then_ls_and_show_agree(home: Path) -> None:
    code, _, _ = run(
        "generate",
        "--symbols",
        "AAPL,BTC/USD",
        "--start",
        "2024-01-02",
        "--end",
        "2024-01-03",
        "--seed",
        "1",
    )
    assert code == 0
    code, out, _ = run("ls", "--json")
    entries = {e["symbol"]: e for e in json.loads(out)["entries"]}
    assert entries["AAPL"]["rows"] == 2 * 390
    assert entries["BTC/USD"]["rows"] == 2 * 1440
    assert entries["AAPL"]["start"] == "2024-01-02T14:30:00+00:00"
    code, out, _ = run("show", "BTC/USD", "--limit", "3", "--json")
    shown = json.loads(out)
    assert code == 0
    assert [b["timestamp"] for b in shown["bars"]] == [
        "2024-01-02T00:00:00+00:00",
        "2024-01-02T00:01:00+00:00",
        "2024-01-02T00:02:00+00:00",
    ]
    code, out, _ = run("show", "AAPL", "--start", "2024-01-03", "--limit", "0", "--csv")
    assert out.splitlines()[0].startswith("timestamp,open,high,low,close,volume")
    assert len(out.splitlines()) == 1 + 390


def test_import_reports_a_bad_row_on_stderr_and_exits_2(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T14:30:00Z,1,2,1,1,5\n"
        "2024-01-02T14:31:00Z,1,2,1,3,5\n",
        encoding="utf-8",
    )
    code, out, err = run("import", str(csv), "--symbol", "AAPL", "--timeframe", "1Min")
    assert code == 2
    assert "line 3: close outside [low, high]" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run("ls", "--json")
    assert json.loads(out)["entries"] == []


def test_import_of_a_good_file_prints_json(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("timestamp,open,high,low,close,volume\n2024-01-02T14:30:00Z,1,2,1,1,5\n")
    code, out, _ = run("import", str(csv), "--symbol", "AAPL", "--timeframe", "1Min", "--json")
    assert code == 0
    assert json.loads(out)["rows_written"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "--timeframe", "7Fortnights"), "unknown timeframe"),
        (("generate", "--start", "yesterday"), "--start"),
        (("generate", "--start", "2024-02-01", "--end", "2024-01-01"), "--end"),
        (("show", "NOPE"), "no 1Min bars of NOPE"),
    ],
)
def test_bad_input_gets_one_line_on_stderr_and_exit_code_2(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert message in err


def test_ls_on_an_empty_store_says_how_to_fill_it(home: Path) -> None:
    code, out, _ = run("ls")
    assert code == 0
    assert "stockyard data generate" in out


def test_show_resamples_stored_minutes_when_a_coarser_timeframe_is_asked(home: Path) -> None:
    code, _, _ = run(
        "generate", "--symbols", "AAPL", "--start", "2024-01-02", "--end", "2024-01-05"
    )
    assert code == 0
    code, out, err = run("show", "AAPL", "--timeframe", "1Day", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["timeframe"] == "1Day"
    assert len(payload["bars"]) == 4  # four NYSE sessions, 2 to 5 January 2024
    assert "resampled from stored 1Min bars" in err
