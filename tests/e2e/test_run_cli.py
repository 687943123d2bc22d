"""``stockyard run``: bad input is one line and exit 2 with nothing started; live trading
needs its flag; a short run against a sandbox trades and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from tests.integration.sandbox.conftest import KEY, SECRET, make_config
from typer.testing import CliRunner

from stockyard.cli._run_cmd import register
from stockyard.sandbox import SandboxServer


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The command under test."""

    register(app, typer.Typer())
    return app


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), ["run", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--strategy", "sma_cros", "--symbols", "AAPL"],
            "unknown strategy 'sma_cros'; did you mean 'sma_cross'?",
        ),
        (
            ["--strategy", "sma_cross", "--symbols", "AAPL", "--param", "fsat=5"],
            "unknown parameter 'fsat' for sma_cross; did you mean 'fast'?",
        ),
        (
            ["--strategy", "sma_cross", "--symbols", "AAPL", "--param", "fast=0"],
            "parameter 'fast' of sma_cross must be >= 1, got '0'",
        ),
        (["--strategy", "sma_cross", "--symbols", "AA PL"], "bad symbol 'AA PL'"),
        (["--strategy", "sma_cross", "--symbols", ","], "--symbols needs at least one symbol"),
        (
            ["--strategy", "sma_cross", "--symbols", "AAPL", "--broker", "alpaca-papr"],
            "unknown --broker 'alpaca-papr'; did you mean 'alpaca-paper'?",
        ),
        (
            ["--strategy", "sma_cross", "--symbols", "AAPL", "--broker", "alpaca-live"],
            "--broker alpaca-live trades real money: add --i-understand-live-trading",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_sandbox_broker_with_a_remote_url_is_refused_naming_the_setting() -> None:
    code, _, err = _run(
        "--strategy", "sma_cross", "--symbols", "AAPL", "--sandbox-url",
        "https://paper-api.alpaca.markets",
        env={"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET},
    )  # fmt: skip
    assert code == 2
    assert "--broker sandbox needs a local sandbox URL" in err


def test_a_short_run_on_the_sandbox_trades_and_reports_json() -> None:
    server = SandboxServer(make_config(speed=600.0, symbols=("AAPL", "MSFT"))).start()
    try:
        code, out, err = _run(
            "--strategy", "sma_cross", "--symbols", "AAPL,MSFT", "--param", "fast=2",
            "--param", "slow=3", "--param", "qty=5", "--sandbox-url", server.base_url,
            "--duration", "8s", "--status-every", "2s", "--json",
            env={"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET, "LOG_LEVEL": "WARNING"},
        )  # fmt: skip
    finally:
        server.stop()
    assert code == 0, err
    figures = json.loads(out)
    assert figures["mode"] == "sandbox"
    assert figures["bars"] > 0
    assert figures["orders"] > 0
    assert "bars" in err  # the periodic status line
    assert "node stopped cleanly" in err


def test_without_a_strategy_run_trades_every_enabled_bot_of_the_settings(tmp_path: Path) -> None:
    config = tmp_path / "stockyard.toml"
    config.write_text(
        '[[bots]]\nname = "trend"\nstrategy = "sma_cross"\nsymbols = ["AAPL"]\n'
        "params = { fast = 2, slow = 3, qty = 5 }\n"
        '[[bots]]\nname = "off"\nstrategy = "sma_cross"\nsymbols = ["MSFT"]\nenabled = false\n'
    )
    server = SandboxServer(make_config(speed=600.0, symbols=("AAPL", "MSFT"))).start()
    try:
        code, out, err = _run(
            "--sandbox-url", server.base_url, "--duration", "8s", "--json",
            env={"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET, "LOG_LEVEL": "WARNING",
                 "STOCKYARD_CONFIG": str(config), "STOCKYARD_HOME": str(tmp_path)},
        )  # fmt: skip
    finally:
        server.stop()
    assert code == 0, err
    assert "trend (sma_cross) on AAPL via sandbox" in err
    assert "off" not in err.split("via sandbox")[0]  # the disabled table does not run
    assert json.loads(out)["orders"] > 0


def test_strategy_without_symbols_is_refused() -> None:
    code, _, err = _run("--strategy", "sma_cross")
    assert code == 2
    assert "--strategy and --symbols go together" in err
