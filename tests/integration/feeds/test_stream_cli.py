"""``stockyard stream --feed sandbox`` against a running sandbox."""

from __future__ import annotations

import json
import threading

import pytest
import typer
from tests.integration.feeds.conftest import Sandbox
from tests.integration.sandbox.conftest import KEY, SECRET, wait_for
from typer.testing import CliRunner

from stockyard.cli._bus_cmd import register


def make_app() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    register(app, bench)
    return app


def test_stream_from_the_sandbox_shows_its_data_and_reports_json(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCKYARD_SANDBOX__PORT", str(sandbox.server.port))
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)  # the credentials, as alpaca.* settings
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    hub = sandbox.server.sandbox.md_hub

    def market() -> None:  # once the command has subscribed, two minutes of data
        wait_for(lambda: hub.connections == 2 and hub.all_subscribed(), what="the command")
        sandbox.advance(120)

    driver = threading.Thread(target=market)
    driver.start()
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        make_app(),
        ["stream", "--symbols", "AAPL,BTC/USD", "--feed", "sandbox", "--duration", "3s", "--json"],
    )
    driver.join(10)
    assert result.exit_code == 0, result.output
    assert "sandbox: connected crypto, stocks" in result.output
    report = json.loads(result.output[result.output.index("{\n") :])
    assert report["feed"]["feed"] == "sandbox"
    assert report["feed"]["published"] == hub.delivered > 0
    assert report["messages"]["AAPL"] > 0
    assert report["messages"]["BTC/USD"] > 0
    assert report["feed"]["reconnects"] == 0
    assert report["feed"]["failure"] is None


def test_stream_with_credentials_the_sandbox_refuses_exits_1_saying_so(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCKYARD_SANDBOX__PORT", str(sandbox.server.port))
    result = CliRunner().invoke(
        make_app(),
        ["stream", "--symbols", "AAPL", "--feed", "sandbox", "--key", KEY, "--secret", "nope"],
    )
    assert result.exit_code == 1
    assert "stockyard: the stocks stream refused the credentials (auth failed)" in result.output
