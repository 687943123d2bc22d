"""``stockyard bench orchestrator``: stop, start-to-ready and restart-after-crash times of
every process kind of the default table, under a real supervisord."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

from stockyard.config import load_settings
from stockyard.data import ParquetStore, write_synthetic
from stockyard.orchestrator import (
    LogMark,
    ProcessSpec,
    ProcessTable,
    RunPaths,
    Supervisor,
    SupervisordProcess,
)

__all__ = ["run_orchestrator_benchmark"]

_KEY, _SECRET = "BENCHKEY", "bench-orchestrator-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
        env.pop(name, None)
    return env | {
        "STOCKYARD_HOME": str(home),
        "HEALTH_API_PORT": str(_free_port()),
        "STOCKYARD_SANDBOX__PORT": str(_free_port()),
        "STOCKYARD_SANDBOX__KEY_ID": _KEY,
        "STOCKYARD_SANDBOX__SECRET_KEY": _SECRET,
        "LOG_LEVEL": "WARNING",
    }


def _ms(begin: float) -> float:
    return (time.perf_counter() - begin) * 1000


def _until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the process never reached the expected state")
        time.sleep(0.002)


def _stop(supervisor: Supervisor, name: str) -> float:
    pid = supervisor.process(name).pid
    begin = time.perf_counter()
    supervisor.rpc.stop(name, wait=True)
    if pid is not None:
        _until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie")
    return _ms(begin)


def _start(supervisor: Supervisor, spec: ProcessSpec) -> float:
    mark = LogMark(supervisor.log_path(spec.name))
    begin = time.perf_counter()
    supervisor.rpc.start(spec.name, wait=False)
    supervisor.wait_ready(spec, mark)
    return _ms(begin)


def _crash(supervisor: Supervisor, spec: ProcessSpec) -> float:
    # supervisord restarts at once only a process that was RUNNING (past startsecs).
    _until(lambda: supervisor.rpc.info(spec.name).state == "RUNNING")
    old = supervisor.process(spec.name).pid
    assert old is not None
    mark = LogMark(supervisor.log_path(spec.name))
    begin = time.perf_counter()
    os.kill(old, signal.SIGKILL)
    _until(lambda: supervisor.rpc.info(spec.name).pid not in (0, old))
    supervisor.wait_ready(spec, mark)
    return _ms(begin)


def _p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 1)


def _summary(samples: dict[str, list[float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for figure, values in samples.items():
        out[f"{figure}_p50_ms"] = round(float(np.percentile(values, 50)), 1)
        out[f"{figure}_p95_ms"] = _p95(values)
    return out


def run_orchestrator_benchmark(*, rounds: int = 20, home: Path | None = None) -> dict[str, object]:
    """Start the default table (sandbox, node, hub) under supervisord on a fresh home, then
    ``rounds`` times per process: stop (request to process gone), start (request to the
    readiness probe answering) and ``kill -9`` (to the new process ready). p50/p95 per kind
    under ``kinds``; the worst kind's p95 of each at the top level."""
    home = home if home is not None else Path(tempfile.mkdtemp(prefix="stockyard-bench-"))
    env = _environment(home)
    settings = load_settings(env=env)
    assert settings.data.dir is not None  # filled from home by Settings
    assert settings.log.dir is not None
    write_synthetic(ParquetStore(settings.data.dir))
    table = ProcessTable.from_settings(settings)
    daemon = SupervisordProcess(table, RunPaths.of(settings.home, settings.log.dir), env=env)
    kinds: dict[str, dict[str, float]] = {}
    try:
        supervisor = daemon.start()
        supervisor.start_all()
        for spec in table:
            samples: dict[str, list[float]] = {"stop": [], "start_to_ready": [], "crash": []}
            for _ in range(rounds):
                samples["stop"].append(_stop(supervisor, spec.name))
                samples["start_to_ready"].append(_start(supervisor, spec))
                samples["crash"].append(_crash(supervisor, spec))
            summary = _summary(samples)
            summary["restart_after_crash_p50_ms"] = summary.pop("crash_p50_ms")
            summary["restart_after_crash_p95_ms"] = summary.pop("crash_p95_ms")
            kinds[spec.kind] = summary
    finally:
        with contextlib.suppress(Exception):  # the figures matter more than a clean stop
            daemon.stop()
    out: dict[str, object] = {"rounds": rounds, "processes": table.names}
    for figure in ("stop_p95_ms", "start_to_ready_p95_ms", "restart_after_crash_p95_ms"):
        worst = max(kinds, key=lambda k: kinds[k][figure])
        out[figure] = kinds[worst][figure]
        out[f"{figure.removesuffix('_p95_ms')}_worst_kind"] = worst
    out["kinds"] = kinds
    return out
