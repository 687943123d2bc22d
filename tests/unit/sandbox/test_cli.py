from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from stockyard.cli._sandbox_cmd import register


def _apps() -> tuple[typer.Typer, typer.Typer]:
    app = typer.Typer()
    bench = typer.Typer()
    register(app, bench)
    app.add_typer(bench, name="bench")
    return app, bench


def test_register_adds_sandbox_and_bench_sandbox() -> None:
    app, _ = _apps()
    runner = CliRunner()
    help_text = runner.invoke(app, ["sandbox", "--help"]).output
    for option in ("--host", "--port", "--source", "--symbols", "--start", "--speed", "--key",
                   "--secret", "--faults", "--reset"):  # fmt: skip
        assert option in help_text
    assert "--json" in runner.invoke(app, ["bench", "sandbox", "--help"]).output


def test_an_unknown_fault_profile_is_one_clear_line() -> None:
    app, _ = _apps()
    result = CliRunner().invoke(app, ["sandbox", "--faults", "nope", "--port", "0"])
    assert result.exit_code == 2
    assert "unknown fault profile 'nope'" in result.output


def test_a_corrupt_state_file_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sandbox.db").write_text("not a database\n" * 50)
    monkeypatch.setenv("STOCKYARD_HOME", str(tmp_path))
    app, _ = _apps()
    result = CliRunner().invoke(app, ["sandbox", "--port", "0", "--source", "synthetic"])
    assert result.exit_code == 2
    assert "cannot be used" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "sandbox.db").read_text().startswith("not a database")
