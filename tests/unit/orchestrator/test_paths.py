"""Run-time paths and the locks the operating system releases when their holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stockyard.orchestrator import MAX_SOCKET_PATH, FileLock, LockedError, RunPaths


def test_the_socket_lives_under_run_when_the_path_is_short(tmp_path: Path) -> None:
    paths = RunPaths.of(tmp_path, tmp_path / "logs")
    assert paths.socket == tmp_path / "run" / "supervisor.sock"


def test_a_deep_home_puts_the_socket_in_a_short_directory_named_after_it(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    paths = RunPaths.of(deep, deep / "logs")
    assert len(os.fsencode(paths.socket)) <= MAX_SOCKET_PATH
    assert paths.socket_dir != paths.run_dir
    assert RunPaths.of(deep, deep / "logs").socket == paths.socket
    assert RunPaths.of(deep / "x", deep / "logs").socket != paths.socket


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    path = tmp_path / "run" / "up.lock"
    with FileLock(path):
        with pytest.raises(LockedError) as caught:
            FileLock(path).acquire()
        assert caught.value.holder == os.getpid()
    FileLock(path).acquire().release()


def test_a_lock_held_by_a_process_killed_with_sigkill_is_free_again(tmp_path: Path) -> None:
    path = tmp_path / "account-sandbox.lock"
    code = (
        "import sys, time; from pathlib import Path; from stockyard.orchestrator import FileLock;"
        f"FileLock(Path({str(path)!r})).acquire(); print('held', flush=True); time.sleep(60)"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(LockedError):
                FileLock(path).acquire()
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(10)
            _acquire_within(path, 10.0)
        finally:
            holder.kill()


def _acquire_within(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            FileLock(path).acquire().release()
            return
        except LockedError:
            assert time.monotonic() < deadline, "the lock was never released"
            time.sleep(0.01)
