"""The ``stockyard`` command loads a command's module only when that command runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from stockyard.cli import app
from stockyard.cli._lazy import LazyGroup

_HEAVY = (
    "stockyard.backtest",
    "stockyard.data",
    "stockyard.engine",
    "stockyard.sandbox",
    "stockyard.store",
    "stockyard.api",
    "alpaca",
    "distributed",
    "pandas",
    "numba",
)


def _listed_help(command: typer.core.TyperCommand | TyperGroup) -> str:
    # What Typer prints beside a command's name: its first paragraph.
    text = command.short_help or command.help or ""
    return text.split("\n\n")[0].strip()


def _load_all(group: LazyGroup) -> None:
    for name in group.table:
        group.load(name)


def _groups() -> list[LazyGroup]:
    root = typer.main.get_group(app)
    bench = root.commands["bench"]
    assert isinstance(root, LazyGroup)
    assert isinstance(bench, LazyGroup)
    return [root, bench]


def test_help_and_version_import_no_command_module() -> None:
    code = (
        "import json, sys\n"
        "from stockyard.cli import app\n"
        "for args in (['--help'], ['bench', '--help'], ['--version']):\n"
        "    try:\n"
        "        app(args, prog_name='stockyard')\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps([m for m in {_HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    assert "backtest" in done.stdout
    assert "walkforward" in done.stdout


@pytest.mark.parametrize("group", _groups(), ids=["stockyard", "bench"])
def test_every_listed_line_is_the_commands_own_help(group: LazyGroup) -> None:
    _load_all(group)
    for name, entry in group.table.items():
        command = group.commands[name]
        assert _listed_help(command) == entry.help, name


def test_every_command_is_listed_in_the_order_it_always_was() -> None:
    root, bench = _groups()
    assert root.list_commands(typer.Context(root)) == [
        "up", "run", "sandbox", "stream", "walkforward", "compare", "sweep", "montecarlo",
        "doctor", "data", "bus", "backtest", "health", "config", "state", "ml",
        "node", "hub", "feed", "ps", "start", "stop", "restart", "logs", "deploy",
        "keys", "audit", "positions", "orders", "fills", "pnl", "kill", "resume", "bots", "jobs",
        "mcp", "bench",
    ]  # fmt: skip
    assert bench.list_commands(typer.Context(bench)) == [
        "logging", "data", "node", "sandbox", "bus", "backtest", "walkforward", "sweep",
        "montecarlo", "health", "store", "oms", "ml", "soak", "orchestrator", "dashboard", "api",
        "frozen",
    ]  # fmt: skip


def test_a_command_runs_with_its_own_options() -> None:
    result = CliRunner().invoke(app, ["backtest", "ls", "--help"])
    assert result.exit_code == 0, result.output
    assert "--json" in result.output


@pytest.mark.parametrize("args", [["bakctest"], ["bench", "bakctest"]])
def test_a_misspelt_command_is_refused_with_a_suggestion(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "No such command 'bakctest'. Did you mean 'backtest'?" in result.output
