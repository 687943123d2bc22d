"""Start-up imports only what a process needs: ``--version`` and ``--help`` no settings,
logging or database; each process entry point (``node``, ``sandbox``, ``hub``) none of the
heavy libraries it does not use (the orchestrator's start-to-ready figures count them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Libraries no process of `stockyard up` needs to start: the vectorised backtester's numba
# kernels, optuna, the ML libraries, alert delivery. (The hub's research service and
# dashboard draw reports with plotly; a node and the sandbox load it not either.)
_NEVER_AT_START = ("numba", "optuna", "lightgbm", "sklearn", "apprise")


def _loaded(code: str, wanted: tuple[str, ...]) -> list[str]:
    """Which of ``wanted`` are in ``sys.modules`` after ``code`` runs in a fresh Python."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {wanted!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_version_and_help_load_no_settings_logging_or_database() -> None:
    code = (
        "from stockyard.cli import app\n"
        "for args in (['--version'], ['--help']):\n"
        "    try:\n"
        "        app(args, prog_name='stockyard')\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    wanted = (
        "stockyard.config",
        "stockyard.obs",
        "pydantic_settings",
        "sqlalchemy",
        "redis",
        "pyarrow",
        "numpy",
        *_NEVER_AT_START,
    )
    assert _loaded(code, wanted) == []
    # The probe sees what it looks for: a command that runs loads the settings.
    assert _loaded(f"{code}import stockyard.cli._context", wanted) != []


@pytest.mark.parametrize(
    ("entry", "absent"),
    [
        (
            "_node_cmd",
            ("stockyard.backtest", "stockyard.api", "mcp", "exchange_calendars", "plotly"),
        ),
        (
            "_sandbox_cmd",
            (
                "stockyard.backtest",
                "stockyard.engine",
                "alpaca",
                "pandas",
                "exchange_calendars",
                "redis",
                "mcp",
                "plotly",
            ),
        ),
        ("_hub_cmd", ("exchange_calendars",)),
    ],
)
def test_a_process_entry_point_loads_no_library_it_does_not_need(
    entry: str, absent: tuple[str, ...]
) -> None:
    wanted = (*_NEVER_AT_START, *absent)
    assert _loaded(f"import stockyard.cli.{entry}", wanted) == []


def test_the_probe_sees_a_library_an_import_loads() -> None:
    assert _loaded("import stockyard.backtest.vector", ("numba",)) == ["numba"]
