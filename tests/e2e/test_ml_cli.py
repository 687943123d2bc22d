"""``stockyard data generate --planted-signal``, ``ml train|ls|show|promote|rm`` and a
backtest of ``ml_direction`` on a stored, promoted model, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_MAIN = "from stockyard.cli import app\napp(prog_name='stockyard')\n"


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    env |= {"STOCKYARD_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=home,
    )


def test_train_list_show_promote_backtest_and_remove_a_model(tmp_path: Path) -> None:
    made = _run(tmp_path, "data", "generate", "--symbols", "AAPL,SPY", "--start", "2024-01-02",
                "--end", "2024-01-24", "--seed", "7", "--planted-signal", "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["planted_signal"] == 0.5

    trained = _run(tmp_path, "ml", "train", "--symbols", "AAPL,SPY", "--start", "2024-01-02",
                   "--end", "2024-01-17", "--test-rows", "1500", "--promote", "--json")  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    model = json.loads(trained.stdout)
    assert model["passed_gate"], model["gate"]
    assert model["promoted"]
    assert model["metrics"]["out_of_sample_hit_rate"] >= 0.55
    assert model["features"][0].startswith("%")
    assert model["format"] == "lightgbm"
    assert len(model["sha256"]) == 64

    listed = json.loads(_run(tmp_path, "ml", "ls", "--json").stdout)
    assert [m["id"] for m in listed] == [model["id"]]
    shown = _run(tmp_path, "ml", "show", "ml_direction")
    assert model["id"] in shown.stdout
    assert "(promoted)" in shown.stdout

    ran = _run(tmp_path, "backtest", "--strategy", "ml_direction", "--symbols", "AAPL,SPY",
               "--start", "2024-01-18", "--end", "2024-01-24", "--source", "local",
               "--param", "model=ml_direction", "--json")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["metrics"]["num_trades"] > 0

    refused = _run(tmp_path, "ml", "rm", model["id"])
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    removed = _run(tmp_path, "ml", "rm", model["id"], "--force", "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(_run(tmp_path, "ml", "ls", "--json").stdout) == []


def test_a_tampered_model_is_refused_by_promote_and_by_a_bot(tmp_path: Path) -> None:
    made = _run(tmp_path, "data", "generate", "--symbols", "AAPL", "--start", "2024-01-02",
                "--end", "2024-01-09", "--seed", "7", "--planted-signal")  # fmt: skip
    assert made.returncode == 0, made.stderr
    trained = _run(tmp_path, "ml", "train", "--symbols", "AAPL", "--start", "2024-01-02",
                   "--end", "2024-01-09", "--test-rows", "300", "--kind", "logistic",
                   "--json")  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    model = json.loads(trained.stdout)
    path = tmp_path / "data" / "models" / model["id"] / "model.skops"
    path.write_bytes(path.read_bytes() + b"\0")
    promoted = _run(tmp_path, "ml", "promote", model["id"])
    assert promoted.returncode == 2
    assert "hashes to" in promoted.stderr
    assert "changed or damaged" in promoted.stderr
