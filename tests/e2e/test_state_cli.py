"""``stockyard state export|import`` as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from stockyard.core import OrderIntent, OrderRequest, OrderSide
from stockyard.store import SqlOrderJournal, SqlRunStore, SqlStrategyStateStore, open_database

CLI = [sys.executable, "-m", "stockyard"]


def _run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    return subprocess.run(
        [*CLI, *args],
        env=env | {"STOCKYARD_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=home,
    )


def _populate(url: str) -> None:
    with open_database(url) as database:
        run_id = SqlRunStore(database).start_run(mode="paper", strategies=["s"], symbols=["AAPL"])
        request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal("0.10"))
        SqlOrderJournal(database, run_id=run_id).record_intent(
            OrderIntent(
                client_order_id="s-0",
                strategy_id="s",
                sequence=0,
                request=request,
                created_at=datetime(2026, 1, 5, tzinfo=UTC),
            )
        )
        SqlStrategyStateStore(database).save("s", {"bars": 3})


def test_state_exported_from_sqlite_imports_into_postgresql_and_exports_the_same(
    tmp_path: Path, postgres_url: str
) -> None:
    _populate(f"sqlite:///{tmp_path / 'state.db'}")  # the default database under home
    result = _run(tmp_path, "state", "export", "--out", "snap.json", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"]["order_intents"] == 1
    assert summary["path"] == str(tmp_path / "snap.json")

    result = _run(tmp_path, "state", "import", "snap.json", "--url", postgres_url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"imported": summary["rows"], "replaced": False}

    result = _run(tmp_path, "state", "export", "--url", postgres_url)  # to stdout
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    original = json.loads((tmp_path / "snap.json").read_text(encoding="utf-8"))
    assert exported["tables"] == original["tables"]
    assert exported["version"] == original["version"] == 1


def test_import_into_a_database_with_state_is_refused_in_one_line_and_changes_nothing(
    tmp_path: Path,
) -> None:
    _populate(f"sqlite:///{tmp_path / 'state.db'}")
    snapshot = _run(tmp_path, "state", "export").stdout
    result = _run(tmp_path, "state", "import", "-", stdin=snapshot)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "stockyard: -: the state database already holds runs, order_intents, strategy_state; "
        "nothing was imported (use --replace to overwrite it)"
    ]
    assert _run(tmp_path, "state", "export").stdout.split("\n", 1)[1] == snapshot.split("\n", 1)[1]
    replaced = _run(tmp_path, "state", "import", "-", "--replace", stdin=snapshot)
    assert replaced.returncode == 0, replaced.stderr
    assert "state imported from -" in replaced.stdout


def test_a_malformed_or_wrong_version_file_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    empty = _run(tmp_path, "state", "export").stdout
    (tmp_path / "broken.json").write_text('{"format": "stockyard-state", ', encoding="utf-8")
    future = json.loads(empty) | {"version": 99}
    (tmp_path / "future.json").write_text(json.dumps(future), encoding="utf-8")
    cases = {
        "broken.json": "broken.json: the state file is not valid JSON",
        "future.json": "future.json: state format version 99 is not supported",
        "missing.json": "cannot read missing.json: No such file or directory",
    }
    for name, message in cases.items():
        result = _run(tmp_path, "state", "import", name, "--replace")
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"stockyard: {message}")
    assert _run(tmp_path, "state", "export").stdout.split("\n", 1)[1] == empty.split("\n", 1)[1]


def test_bench_store_prints_measured_journal_figures(tmp_path: Path) -> None:
    result = _run(tmp_path, "bench", "store", "--orders", "200", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["benchmark"] == "store"
    assert figures["backend"] == "sqlite"
    assert figures["orders"] == 200
    assert 0 < figures["intent_p50_us"] <= figures["intent_p99_us"]
    assert figures["intent_plus_event_p50_us"] > figures["intent_p50_us"]
