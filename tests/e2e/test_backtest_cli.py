"""``stockyard backtest``, ``backtest ls``, ``walkforward`` and ``compare`` as a user runs
them: a real process, a user's CSV, the state database under STOCKYARD_HOME."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The command as shipped.
_MAIN = "from stockyard.cli import app\napp(prog_name='stockyard')\n"


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    env |= {"STOCKYARD_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=home,
    )


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    """Two days of one-minute bars, around the clock (outside NYSE hours too)."""
    rng = np.random.default_rng(3)
    n = 2 * 1440
    close = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)
    opens = np.concatenate([[50.0], close[:-1]])
    high, low = np.maximum(opens, close) + 0.05, np.minimum(opens, close) - 0.05
    stamps = np.datetime64("2024-03-02T00:00") + np.arange(n).astype("timedelta64[m]")
    lines = ["timestamp,open,high,low,close,volume"]
    for t, o, h, lo, c in zip(stamps, opens, high, low, close, strict=True):
        lines.append(f"{t}Z,{o:.2f},{h:.2f},{lo:.2f},{c:.2f},1000")
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_users_csv_backtests_with_no_other_setup_and_twice_gives_the_same_bytes(
    tmp_path: Path, csv_file: Path
) -> None:
    args = ("backtest", "--strategy", "sma_cross", "--data", str(csv_file), "--param", "fast=5",
            "--param", "slow=20", "--json")  # fmt: skip
    first = _run(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    shown = json.loads(first.stdout)
    for key in ("final_equity", "total_return", "sharpe", "max_drawdown", "num_trades"):
        assert key in shown["metrics"]
    assert shown["metrics"]["num_trades"] == len(shown["trades"]) > 10
    trade = shown["trades"][0]
    for key in ("entry_time", "entry_price", "exit_time", "exit_price", "qty", "pnl"):
        assert key in trade
    # Saturday bars (2024-03-02) were traded as they came.
    assert trade["entry_time"].startswith("2024-03-02")
    assert "path" not in shown  # stored in the state database; a file only when asked
    first_export = tmp_path / "first.json"
    exported = _run(tmp_path, "backtest", "export", shown["id"], "--out", str(first_export))
    assert exported.returncode == 0, exported.stderr
    second = _run(tmp_path, *args, "--out", str(tmp_path / "second.json"))
    assert json.loads(second.stdout)["id"] == shown["id"]
    assert json.loads(second.stdout)["path"] == str(tmp_path / "second.json")
    assert (tmp_path / "second.json").read_bytes() == first_export.read_bytes()

    listed = _run(tmp_path, "backtest", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [shown["id"]]


def test_walkforward_and_compare_run_on_the_csv(tmp_path: Path, csv_file: Path) -> None:
    wf = _run(tmp_path, "walkforward", "--strategy", "sma_cross", "--data", str(csv_file),
              "--param", "fast=3,5", "--param", "slow=20", "--train", "1000", "--test", "500",
              "--workers", "1", "--json")  # fmt: skip
    assert wf.returncode == 0, wf.stderr
    doc = json.loads(wf.stdout)
    assert len(doc["windows"]) == 3
    assert doc["stability"][0]["fast"] in (3, 5)
    cmp = _run(tmp_path, "compare", "--data", str(csv_file), "--run", "sma_cross:fast=5,slow=20",
               "--run", "sma_cross:fast=10,slow=40", "--json")  # fmt: skip
    assert cmp.returncode == 0, cmp.stderr
    doc = json.loads(cmp.stdout)
    assert len(doc["runs"]) == 2
    assert doc["correlation"]["matrix"][0][0] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--strategy", "sma_cros"), "did you mean 'sma_cross'"),
        (("--strategy", "sma_cross", "--param", "fsat=5"), "did you mean 'fast'"),
        (("--strategy", "sma_cross", "--param", "fast"), "name=value"),
        (
            (
                "--strategy",
                "sma_cross",
                "--symbols",
                "AAPL",
                "--start",
                "2024-13-01",
                "--end",
                "2024-02-01",
            ),
            "--start",
        ),
        (("--strategy", "sma_cross", "--fees", "per-shar:0.01"), "did you mean 'per-share'"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, csv_file: Path, args: tuple[str, ...], message: str
) -> None:
    extra = () if "--symbols" in args else ("--data", str(csv_file))
    done = _run(tmp_path, "backtest", *args, *extra)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    listed = _run(tmp_path, "backtest", "ls", "--json")
    assert json.loads(listed.stdout) == []  # nothing stored


def test_a_malformed_csv_names_the_bad_line_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-03-01T00:00:00Z,10,11,9,10,100\n"
        "2024-03-01T00:01:00Z,10,oops,9,10,100\n"
    )
    done = _run(tmp_path, "backtest", "--strategy", "sma_cross", "--data", str(bad))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "line 3" in line
    assert "high" in line


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_symbol_in_no_store_with_alpaca_unreachable_fails_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "stockyard.toml"
    config.write_text(f'[alpaca]\nbase_url = "http://127.0.0.1:{_closed_port()}"\n')
    done = _run(tmp_path, "--config", str(config), "backtest", "--strategy", "sma_cross",
                "--symbols", "TSLA", "--start", "2025-04-01", "--end", "2025-04-02")  # fmt: skip
    assert done.returncode == 2, done.stdout
    [said] = [line for line in done.stderr.splitlines() if line.startswith("stockyard:")]
    assert said.startswith("stockyard: no source could provide 1Min bars for TSLA")
    assert "TSLA: local no bars in the range, alpaca failed: ConnectionError" in said
    assert "sharpe" not in done.stdout  # no figures made up from synthetic bars
    listed = _run(tmp_path, "backtest", "ls", "--json")
    assert json.loads(listed.stdout) == []


def test_a_backtest_on_the_sample_set_says_synthetic_in_its_table_json_report_and_stored_run(
    tmp_path: Path,
) -> None:
    made = _run(tmp_path, "data", "generate", "--symbols", "AAPL", "--start", "2025-04-01",
                "--end", "2025-04-03")  # fmt: skip
    assert made.returncode == 0, made.stderr
    args = ("backtest", "--strategy", "sma_cross", "--symbols", "AAPL", "--start", "2025-04-01",
            "--end", "2025-04-03")  # fmt: skip
    table = _run(tmp_path, *args, "--report", str(tmp_path / "report.html"))
    assert table.returncode == 0, table.stderr
    assert "SYNTHETIC bars" in table.stdout
    assert "data: synthetic (local store, seed 42)" in table.stdout
    assert "slippage: none (fills at the bar's price)" in table.stdout
    assert "crypto Alpaca crypto tiers" in table.stdout
    report = (tmp_path / "report.html").read_text()
    assert "(synthetic data)</title>" in report
    assert "<dd data-field='data'>synthetic (local store, seed 42)</dd>" in report
    assert "<dd data-field='slippage'>none (fills at the bar&#x27;s price)</dd>" in report
    shown = json.loads(_run(tmp_path, *args, "--json").stdout)
    assert shown["synthetic"] is True
    assert shown["data"]["AAPL"]["origin"] == "synthetic"
    assert shown["data"]["AAPL"]["source"] == "local"
    assert shown["costs"]["slippage"].startswith("none")
    stored = tmp_path / "stored.json"
    exported = _run(tmp_path, "backtest", "export", shown["id"], "--out", str(stored),
                    "--report", str(tmp_path / "again.html"))  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    document = json.loads(stored.read_text())
    assert document["data"]["AAPL"]["description"] == "synthetic (local store, seed 42)"
    assert document["meta"]["slippage"].startswith("none")
    assert "synthetic" in (tmp_path / "again.html").read_text()
    [listed] = json.loads(_run(tmp_path, "backtest", "ls", "--json").stdout)
    assert listed["id"] == shown["id"]


def test_a_users_file_is_named_as_the_data(tmp_path: Path, csv_file: Path) -> None:
    done = _run(tmp_path, "backtest", "--strategy", "sma_cross", "--data", str(csv_file))
    assert done.returncode == 0, done.stderr
    assert "data: file (mine.csv), adjustment unknown" in done.stdout
