"""``stockyard up`` over a process table of its own: order, signals, orphans, bad tables."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import RedisBus

STOCKYARD = [sys.executable, "-m", "stockyard"]
SLEEPER = "import time; print('ready', flush=True); time.sleep(600)"

TABLE = f"""
[processes.sandbox]
enabled = false
[processes."node@sandbox"]
enabled = false
[processes.hub]
enabled = false

[processes.first]
command = {sys.executable!r}
args = ["-c", {SLEEPER!r}]
readiness = {{ log = "ready" }}

[processes.second]
command = {sys.executable!r}
args = ["-c", {SLEEPER!r}]
depends_on = ["first"]
stopwaitsecs = 2
readiness = {{ log = "ready" }}
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    return env | {"STOCKYARD_HOME": str(home), "NO_COLOR": "1"}


def _start(tmp_path: Path, table: str = TABLE) -> subprocess.Popen[bytes]:
    (tmp_path / "stockyard.toml").write_text(table)
    return subprocess.Popen(
        [*STOCKYARD, "up"],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )


def _tree_when_up(process: subprocess.Popen[bytes], tmp_path: Path) -> list[psutil.Process]:
    log = tmp_path / "logs" / "trading_system.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and "stockyard up" in log.read_text(errors="replace")):
        assert process.poll() is None, "up exited before it was up"
        assert time.monotonic() < deadline, "up never came up"
        time.sleep(0.05)
    root = psutil.Process(process.pid)
    tree = [root, *root.children(recursive=True)]
    assert len(tree) == 4  # up, supervisord, first, second
    return tree


def test_sigterm_stops_every_process_in_reverse_order_and_leaves_none(tmp_path: Path) -> None:
    process = _start(tmp_path)
    try:
        tree = _tree_when_up(process, tmp_path)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        _gone, alive = psutil.wait_procs(tree, timeout=10)
        assert alive == []
    finally:
        process.kill()
        process.wait(30)
    log = (tmp_path / "logs" / "supervisord.log").read_text()
    assert log.index("stopped: second") < log.index("stopped: first")


def test_up_killed_with_sigkill_leaves_no_process_behind(tmp_path: Path) -> None:
    process = _start(tmp_path)
    try:
        tree = _tree_when_up(process, tmp_path)
        process.kill()
        process.wait(30)
        _gone, alive = psutil.wait_procs(tree, timeout=30)
        assert alive == []
    finally:
        process.kill()
        process.wait(30)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('[processes.x]\ncommand = "sleep"\ndepends_on = ["nope"]\n', "processes.x.depends_on"),
        ("[processes.hub]\nstartsecs = -1\n", "processes.hub.startsecs"),
    ],
)
def test_a_bad_table_fails_at_start_naming_the_key(tmp_path: Path, table: str, named: str) -> None:
    (tmp_path / "stockyard.toml").write_text(table)
    result = subprocess.run(
        [*STOCKYARD, "up"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert named in result.stderr
    assert not (tmp_path / "run" / "supervisord.conf").exists()


def test_process_state_changes_and_a_crash_reach_another_process_over_redis(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    table = TABLE + "\n[processes.feed]\nenabled = false\n"
    env = _env(tmp_path) | {
        "STOCKYARD_BUS__BACKEND": "redis",
        "STOCKYARD_REDIS__URL": redis_url,
        "STOCKYARD_BUS__PREFIX": redis_prefix,
    }
    (tmp_path / "stockyard.toml").write_text(table)
    seen: list[dict[str, object]] = []
    # `up` publishes its first states once every process is ready, seconds after the
    # subscriber below has started.
    up = subprocess.Popen(
        [*STOCKYARD, "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )  # fmt: skip

    async def watch() -> None:
        bus = RedisBus(url=redis_url, prefix=redis_prefix, registry=CollectorRegistry())
        bus.subscribe("sys.process", lambda _topic, message: seen.append(message))  # type: ignore[arg-type]
        await bus.start()
        await bus.ready()
        try:
            await _until_seen(seen, lambda m: m["name"] == "second" and m["state"] == "RUNNING")
            pid = next(m["pid"] for m in seen if m["name"] == "second")
            assert isinstance(pid, int)
            os.kill(pid, signal.SIGKILL)
            await _until_seen(seen, lambda m: m.get("detail") == "crashed (not expected)")
        finally:
            await bus.close()

    try:
        asyncio.run(watch())
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    finally:
        up.kill()
        up.wait(30)
    assert {m["name"] for m in seen} == {"first", "second"}


async def _until_seen(
    seen: list[dict[str, object]], match: Callable[[dict[str, object]], bool]
) -> None:
    deadline = time.monotonic() + 120
    while not any(match(m) for m in seen):
        assert time.monotonic() < deadline, f"never seen; seen {seen}"
        await asyncio.sleep(0.05)
