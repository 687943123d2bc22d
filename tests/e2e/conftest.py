"""``supervised_system``: ``stockyard up`` (supervised) on a temporary home, for end-to-end tests.

Usage::

    def test_something(supervised_system: SupervisedSystem) -> None:
        httpx.get(f"{supervised_system.hub_url}/health")
        supervised_system.cli("ps", "--json")

It starts the whole default table (sandbox, node@sandbox, hub) on free ports with known
sandbox keys, yields once ``up`` has every process ready, and on teardown sends SIGINT and
checks that ``up`` exited 0 and left no process of its tree behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

STOCKYARD = [sys.executable, "-m", "stockyard"]
SANDBOX_KEY, SANDBOX_SECRET = "E2EKEY", "e2e-secret-5f4e3d"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SupervisedSystem:
    """A running supervised ``stockyard up``: where it serves, and a way to run the CLI."""

    home: Path
    env: dict[str, str]
    hub_url: str
    sandbox_url: str
    process: subprocess.Popen[bytes]
    sandbox_headers: dict[str, str] = field(
        default_factory=lambda: {
            "APCA-API-KEY-ID": SANDBOX_KEY,
            "APCA-API-SECRET-KEY": SANDBOX_SECRET,
        }
    )

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``stockyard ARGS`` against this system (same home, same settings)."""
        return subprocess.run(
            [*STOCKYARD, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.home,
        )


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
        env.pop(name, None)
    return env | {
        "STOCKYARD_HOME": str(home),
        "HEALTH_API_PORT": str(_free_port()),
        "STOCKYARD_SANDBOX__PORT": str(_free_port()),
        "STOCKYARD_SANDBOX__KEY_ID": SANDBOX_KEY,
        "STOCKYARD_SANDBOX__SECRET_KEY": SANDBOX_SECRET,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "HEALTH_CHECK_INTERVAL": "1",  # health's tests wait for a few cycles, not minutes
    }


def _wait_until_up(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"stockyard up exited {process.returncode} before it was up")
        if log.exists() and "stockyard up" in log.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.1)
    pytest.fail(f"stockyard up was not up within {timeout:g} s")


@pytest.fixture(scope="module")
def supervised_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SupervisedSystem]:
    """The supervised system on a temporary home, one per test module (see the module
    docstring); tests that stop or kill a process leave it running again."""
    yield from _supervised(tmp_path_factory.mktemp("supervised"), {})


@pytest.fixture
def redis_bus_system(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, redis_prefix: str
) -> Iterator[SupervisedSystem]:
    """The supervised system with ``bus.backend = "redis"`` on this test's Redis prefix
    (the seed's ``REDIS_HOST``/``REDIS_PORT`` name the server)."""
    host, _, port = redis_url.split("://", 1)[1].split("/", 1)[0].rpartition(":")
    extra = {
        "STOCKYARD_BUS__BACKEND": "redis",
        "STOCKYARD_BUS__PREFIX": redis_prefix,
        "REDIS_HOST": host,
        "REDIS_PORT": port,
    }
    yield from _supervised(tmp_path_factory.mktemp("redis-bus"), extra)


def _supervised(tmp_path: Path, extra_env: dict[str, str]) -> Iterator[SupervisedSystem]:
    home = tmp_path / "home"
    home.mkdir()
    env = _environment(home) | extra_env
    with (tmp_path / "up.err").open("wb") as err:
        process = subprocess.Popen(
            [*STOCKYARD, "up"], env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=home
        )
    try:
        _wait_until_up(process, home / "logs" / "trading_system.log", 240.0)
        yield SupervisedSystem(
            home=home,
            env=env,
            hub_url=f"http://127.0.0.1:{env['HEALTH_API_PORT']}",
            sandbox_url=f"http://127.0.0.1:{env['STOCKYARD_SANDBOX__PORT']}",
            process=process,
        )
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0, (tmp_path / "up.err").read_text()
        _gone, alive = psutil.wait_procs(tree, timeout=10)
        assert alive == [], f"left behind: {alive}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
