"""supervisord itself: written configuration, started as our child, stopped with its tree."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

import psutil

from stockyard.orchestrator._config import render_supervisord_config
from stockyard.orchestrator._paths import RunPaths
from stockyard.orchestrator._rpc import SupervisorRPC, SupervisorUnavailableError
from stockyard.orchestrator._supervisor import Supervisor
from stockyard.orchestrator._table import ProcessTable

__all__ = ["SupervisordProcess"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    # If `stockyard up` is killed outright, supervisord gets SIGTERM and stops its tree.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SupervisordProcess:
    """supervisord running ``table`` in the foreground (``-n``) as a child of this process.

    ``start()`` writes the configuration (mode 0600), starts supervisord in a session of
    its own (a Ctrl-C at the terminal reaches ``stockyard up``, which stops the processes in
    order) and returns once its socket answers. ``stop()`` stops every process in reverse
    dependency order, shuts supervisord down and makes sure nothing of the tree is left.
    """

    def __init__(
        self, table: ProcessTable, paths: RunPaths, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.table = table
        self.paths = paths
        self.env = dict(os.environ if env is None else env)
        self.popen: subprocess.Popen[bytes] | None = None
        self.supervisor = Supervisor(table, paths, rpc=SupervisorRPC(paths.socket))

    def write_config(self) -> None:
        """Write ``supervisord.conf`` under the run directory."""
        self.paths.make()
        text = render_supervisord_config(self.table, self.paths)
        path = self.paths.config_file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)

    def start(self, *, timeout: float = 15.0) -> Supervisor:
        """Start supervisord and wait for its socket; RuntimeError when it does not come up."""
        self.write_config()
        with contextlib.suppress(FileNotFoundError):
            self.paths.socket.unlink()  # left by a supervisord killed outright
        argv = [sys.executable, "-m", "supervisor.supervisord", "-n", "-c"]
        self.popen = subprocess.Popen(
            [*argv, str(self.paths.config_file)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - prctl only, before exec
            cwd=self.paths.home,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                err = self.popen.stderr.read().decode(errors="replace") if self.popen.stderr else ""
                raise RuntimeError(f"supervisord exited at start: {err.strip()[-500:]}")
            with contextlib.suppress(SupervisorUnavailableError):
                if self.supervisor.rpc.state() == "RUNNING":
                    return self.supervisor
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"supervisord did not answer on {self.paths.socket}")
            time.sleep(0.01)  # polling its socket with a deadline

    @property
    def pid(self) -> int | None:
        """supervisord's pid while it runs."""
        return self.popen.pid if self.popen is not None and self.popen.poll() is None else None

    def stop(self, *, timeout: float | None = None) -> None:
        """Stop all processes in reverse order, then supervisord; kill what is left."""
        if self.popen is None:
            return
        stopwait = max((s.stopwaitsecs for s in self.table), default=10.0)
        limit = timeout if timeout is not None else stopwait * len(self.table) + 10
        tree = self._tree()
        with contextlib.suppress(SupervisorUnavailableError):
            self.supervisor.stop_all()
            self.supervisor.rpc.shutdown()
        try:
            self.popen.wait(limit)
        except subprocess.TimeoutExpired:
            self.kill()
        _reap(tree, 5.0)
        self.supervisor.close()
        with contextlib.suppress(FileNotFoundError):
            self.paths.socket.unlink()
        if self.popen.stderr is not None:
            self.popen.stderr.close()

    def kill(self) -> None:
        """SIGKILL supervisord and every process below it."""
        if self.popen is None:
            return
        tree = self._tree()
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        _reap(tree, 5.0)
        self.supervisor.close()

    def _tree(self) -> list[psutil.Process]:
        if self.popen is None:
            return []
        try:
            root = psutil.Process(self.popen.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []


def _reap(tree: list[psutil.Process], timeout: float) -> None:
    _gone, alive = psutil.wait_procs(tree, timeout=timeout)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=timeout)
