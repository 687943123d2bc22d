"""The ``stockyard`` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

STOCKYARD = [sys.executable, "-m", "stockyard"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
        env.pop(name, None)
    ports = {"HEALTH_API_PORT": str(_free_port()), "STOCKYARD_SANDBOX__PORT": str(_free_port())}
    return env | ports | {"STOCKYARD_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"} | extra


def _run(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STOCKYARD, *args],
        env=_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=home,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_version(tmp_path: Path) -> None:
    result = _run(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("stockyard ")


def test_a_bad_setting_is_refused_at_start_with_one_clear_line(tmp_path: Path) -> None:
    result = _run(tmp_path, "up", "--duration", "1s", LOG_LEVEL="LOUD")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("stockyard: bad setting log.level = 'LOUD' (from env LOG_LEVEL)")
    assert "'DEBUG', 'INFO'" in lines[0]


def test_config_check_and_show(tmp_path: Path) -> None:
    assert _run(tmp_path, "config", "check").returncode == 0
    result = _run(tmp_path, "config", "show", "--json", APCA_API_SECRET_KEY="cli-secret-000111")
    assert result.returncode == 0
    rows = {row["key"]: row for row in json.loads(result.stdout)}
    assert rows["alpaca.secret_key"] == {
        "key": "alpaca.secret_key",
        "value": "********",
        "source": "env APCA_API_SECRET_KEY",
    }
    assert "cli-secret-000111" not in result.stdout


def test_config_file_option_is_read(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text("[health]\ncheck_interval = 7\n")
    result = _run(tmp_path, "--config", str(config), "config", "show", "--json")
    rows = {row["key"]: row for row in json.loads(result.stdout)}
    assert rows["health.check_interval"]["value"] == "7.0"
    assert rows["health.check_interval"]["source"] == f"file {config}"


def test_doctor_prints_the_report_and_writes_the_file(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = _run(tmp_path, "doctor", "--json", "--report-dir", str(reports))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert {c["name"] for c in report["checks"]} >= {"python", "settings", "redis", "alpaca"}
    written = list(reports.glob("integration_test_report_*.json"))
    assert [p.name for p in written] == [Path(report["report_file"]).name]


def test_doctor_with_redis_configured_but_stopped_exits_non_zero_naming_redis(
    tmp_path: Path,
) -> None:
    port = str(_free_port())
    result = _run(tmp_path, "doctor", "--json", REDIS_HOST="127.0.0.1", REDIS_PORT=port)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["failed"] == ["redis"]
    table = _run(tmp_path, "doctor", REDIS_HOST="127.0.0.1", REDIS_PORT=port)
    assert "not ready: redis" in table.stdout


def _wait_for(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return
        time.sleep(0.05)
    pytest.fail(f"{text!r} never appeared in {path}")


def test_up_runs_until_ctrl_c_then_stops_cleanly_and_logs_no_secret(tmp_path: Path) -> None:
    secret = "up-secret-9d8c7b6a"
    process = subprocess.Popen(
        [*STOCKYARD, "up", "--single-process"],
        env=_env(tmp_path, APCA_API_SECRET_KEY=secret, LOG_LEVEL="DEBUG"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    log = tmp_path / "logs" / "trading_system.log"
    try:
        _wait_for(log, "stockyard up")
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stockyard stopped cleanly" in err
    assert "stockyard stopped" in log.read_text()
    for path in (tmp_path / "logs").glob("*.log*"):
        assert secret not in path.read_text(), path.name
    assert secret not in err


def test_up_stops_by_itself_after_its_duration(tmp_path: Path) -> None:
    result = _run(tmp_path, "up", "--single-process", "--duration", "0.5s")
    assert result.returncode == 0, result.stderr
    assert "health API" in result.stderr
    assert "sandbox exchange" in result.stderr
    assert "stockyard stopped cleanly" in result.stderr


def test_up_serves_the_health_api_and_the_sandbox_while_it_runs(tmp_path: Path) -> None:
    port, sandbox_port = _free_port(), _free_port()
    credentials = {
        "STOCKYARD_SANDBOX__KEY_ID": "UPKEY",
        "STOCKYARD_SANDBOX__SECRET_KEY": "up-secret-1",
    }
    process = subprocess.Popen(
        [*STOCKYARD, "up", "--single-process"],
        env=_env(
            tmp_path,
            HEALTH_API_PORT=str(port),
            STOCKYARD_SANDBOX__PORT=str(sandbox_port),
            **credentials,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        _wait_for(tmp_path / "logs" / "trading_system.log", "stockyard up")
        answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
        assert answer.status_code in (200, 503)
        assert answer.json()["status"] in ("pass", "warn", "fail")
        headers = {"APCA-API-KEY-ID": "UPKEY", "APCA-API-SECRET-KEY": "up-secret-1"}
        clock = httpx.get(f"http://127.0.0.1:{sandbox_port}/v2/clock", headers=headers, timeout=10)
        assert clock.status_code == 200
        assert set(clock.json()) >= {"timestamp", "is_open", "next_open", "next_close"}
        assert (tmp_path / "data" / "stock" / "1Min" / "AAPL").is_dir()  # the sample set
        # The node's trading metrics are on the same /metrics while it runs.
        deadline = time.monotonic() + 30
        while 'stockyard_account_cash_dollars{node="sandbox"}' not in (
            metrics := httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        ):
            assert time.monotonic() < deadline, metrics[-2000:]
            time.sleep(0.2)
        assert 'stockyard_node_running{node="sandbox"} 1.0' in metrics
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


def test_up_refuses_a_busy_health_port_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run(
            tmp_path, "up", "--single-process", "--duration", "1s", HEALTH_API_PORT=str(port)
        )
    assert result.returncode == 2
    assert "health API port" in result.stderr
    assert "HEALTH_API_PORT" in result.stderr
