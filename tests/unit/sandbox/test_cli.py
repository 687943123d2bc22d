from __future__ import annotations

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
