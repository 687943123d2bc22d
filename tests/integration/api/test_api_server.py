"""The health API over real HTTP (uvicorn on a free port), and the CLI that reads it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from stockyard.api import HealthServer, health_app
from stockyard.cli._health_cmd import register
from stockyard.config import load_settings


def _cli() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()

    @app.callback()
    def main() -> None:
        """The test's root command."""

    register(app, bench)
    app.add_typer(bench, name="bench")
    return app


@pytest.fixture
def server() -> Iterator[HealthServer]:
    settings = load_settings()  # home: the test's own (tests/conftest.py)
    running = HealthServer(health_app(settings, metrics=CollectorRegistry()), port=0)
    running.start()
    yield running
    running.stop()


def test_the_api_answers_over_http_on_the_port_it_bound(server: HealthServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=server.url) as client:
        health = client.get("/health")
        assert health.status_code == 200  # warn at worst: the sandbox is not running
        assert health.json()["status"] in ("pass", "warn")
        detailed = client.get("/health/detailed").json()
        assert "database:responseTime" in detailed["checks"]
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.get("/health/metrics", params={"since": "5m"}).json()["count"] > 0
        assert "stockyard_health_status" in client.get("/metrics").text
        assert client.get("/docs").status_code == 200


def test_the_cli_prints_the_status_table_and_json_of_a_running_api(server: HealthServer) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    table = runner.invoke(_cli(), ["health", "--url", server.url])
    assert table.exit_code == 0, table.output
    assert "database:responseTime" in table.output
    as_json = runner.invoke(_cli(), ["health", "--json", "--url", server.url])
    assert as_json.exit_code == 0
    assert json.loads(as_json.output)["checks"]


def test_the_cli_says_so_in_one_line_and_exits_1_when_nothing_answers() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = CliRunner().invoke(_cli(), ["health", "--url", url])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"stockyard: no health API answers at {url}")


def test_history_reads_the_samples_the_server_wrote(server: HealthServer) -> None:
    result = CliRunner().invoke(_cli(), ["health", "history", "--json", "--component", "disk"])
    assert result.exit_code == 0, result.output
    samples = json.loads(result.output)
    assert {s["name"] for s in samples} >= {"free", "status", "check_ms"}
    assert server.port  # the server ran the cycle that wrote them


def test_history_refuses_a_bad_since_in_one_line() -> None:
    result = CliRunner().invoke(_cli(), ["health", "history", "--since", "soon"])
    assert result.exit_code == 2
    assert "neither a duration" in result.output


def test_two_servers_cannot_share_a_port(server: HealthServer, tmp_path: Path) -> None:
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    with pytest.raises(OSError, match="in use"):
        HealthServer(health_app(settings, metrics=CollectorRegistry()), port=server.port)


def test_from_settings_serves_on_the_configured_port(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    settings = load_settings(
        env={"STOCKYARD_HOME": str(tmp_path)}, overrides={"health.api_port": port}
    )
    with HealthServer.from_settings(settings) as running:
        assert running.url == f"http://127.0.0.1:{port}"
        assert running.service.report is not None
        assert httpx.get(f"{running.url}/livez").status_code == 200


_SERVE = """
import typer
from stockyard.cli._health_cmd import register
app, bench = typer.Typer(), typer.Typer()

@app.callback()
def main() -> None:
    '''root'''

register(app, bench)
app()
"""


def test_serve_runs_the_api_until_interrupted_and_stops_cleanly(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "STOCKYARD_HOME": str(tmp_path), "STOCKYARD_LOG__CONSOLE": "false"}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, "health", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert f"health API on http://127.0.0.1:{port}" in stderr.decode()
