"""``stockyard up`` with ``[[bots]]`` and ``--broker``: a bad table or a paper account without
keys is one line before anything starts; with keys (the URL pointed at a sandbox, as a
test may) ``up --broker alpaca-paper`` runs ``node@paper`` on it, starts no sandbox of its
own, and the configured bots trade there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.integration.sandbox.conftest import KEY, SECRET, make_config

from stockyard.sandbox import SandboxServer

STOCKYARD = [sys.executable, "-m", "stockyard"]

_BOTS = """
[[bots]]
name = "trend"
strategy = "sma_cross"
symbols = ["AAPL"]
params = { fast = 2, slow = 3, qty = 5 }

[[bots]]
name = "revert"
strategy = "mean_reversion"
symbols = ["MSFT"]
params = { window = 5, entry_z = 0.5, exit_z = 0.1, qty = 7 }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@pytest.mark.parametrize("mode", [[], ["--single-process"]])
def test_paper_without_keys_is_one_clear_line_and_starts_nothing(
    tmp_path: Path, mode: list[str]
) -> None:
    (tmp_path / "stockyard.toml").write_text(_BOTS)
    result = _run(tmp_path, "up", *mode, "--broker", "alpaca-paper", "--duration", "1s")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "stockyard: --broker alpaca-paper needs your Alpaca keys: APCA_API_KEY_ID is not set"
    )
    assert not (tmp_path / "run").exists()  # no process table was started


def test_live_without_its_flag_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stockyard.toml").write_text(_BOTS)
    result = _run(
        tmp_path, "up", "--broker", "alpaca-live", APCA_API_KEY_ID=KEY, APCA_API_SECRET_KEY=SECRET
    )
    assert result.returncode == 2
    assert "--broker alpaca-live trades real money: add --i-understand-live-trading" in (
        result.stderr
    )


def test_a_bad_bot_table_fails_up_with_one_line_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "stockyard.toml").write_text(_BOTS.replace('"mean_reversion"', '"mean_revrsion"'))
    result = _run(tmp_path, "up", "--duration", "1s")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "stockyard: bots[1].strategy: unknown strategy 'mean_revrsion' "
        "(did you mean 'mean_reversion'?)"
    ]


def _orders(server: SandboxServer) -> set[str]:
    headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    answer = httpx.get(
        f"{server.base_url}/v2/orders", params={"status": "all", "limit": 500}, headers=headers
    )
    answer.raise_for_status()
    return {str(o["client_order_id"]).rsplit("-", 1)[0] for o in answer.json()}


@pytest.mark.parametrize("single", [False, True], ids=["supervised", "single-process"])
def test_up_on_a_paper_account_runs_the_configured_bots_there(tmp_path: Path, single: bool) -> None:
    server = SandboxServer(make_config(speed=60.0, symbols=("AAPL", "MSFT"))).start()
    (tmp_path / "stockyard.toml").write_text(_BOTS)
    env = _env(
        tmp_path,
        APCA_API_KEY_ID=KEY,
        APCA_API_SECRET_KEY=SECRET,
        APCA_API_BASE_URL=server.base_url,  # the "paper account" is this sandbox
    )
    mode = ["--single-process"] if single else []
    with (tmp_path / "up.err").open("wb") as err:
        process = subprocess.Popen(
            [*STOCKYARD, "up", *mode, "--broker", "alpaca-paper"], env=env, stderr=err, cwd=tmp_path
        )
    try:
        deadline = time.monotonic() + 180
        while not {"trend", "revert"} <= _orders(server):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no orders of both bots: {(tmp_path / 'up.err').read_text()}")
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        server.stop()
    shown = (tmp_path / "up.err").read_text()
    if single:
        assert f"on {server.base_url} (alpaca-paper)" in shown, shown
        assert "sandbox exchange" not in shown  # up started no sandbox of its own
        return
    assert "process ready process=node@paper" in shown, shown
    assert "process=sandbox" not in shown, shown  # up started no sandbox of its own
    log = (tmp_path / "logs" / "processes" / "node@paper.log").read_text()
    assert "node ready: account paper" in log
    assert "bots trend, revert" in log


def test_a_bot_on_a_symbol_the_sandbox_does_not_replay_is_refused_before_it_starts(
    tmp_path: Path,
) -> None:
    (tmp_path / "stockyard.toml").write_text(_BOTS.replace('["MSFT"]', '["TSLA"]'))
    result = _run(tmp_path, "up", "--duration", "1s")
    assert result.returncode == 2
    assert (
        "stockyard: bots[1].symbols: the sandbox replays AAPL, BTC/USD, MSFT, NVDA, SPY, "
        "not TSLA" in result.stderr
    )
    assert "process ready" not in result.stderr  # nothing was started
