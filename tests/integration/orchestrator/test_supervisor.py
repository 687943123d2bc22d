"""`Supervisor` over a real supervisord running small Python children on a temporary home."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import psutil
import pytest

from stockyard.bus import InProcessBus
from stockyard.config import ProcessLimits, ReadinessProbe
from stockyard.orchestrator import (
    LogMark,
    NotReadyError,
    ProcessMonitor,
    ProcessSpec,
    ProcessTable,
    RunPaths,
    Supervisor,
    SupervisordProcess,
    SupervisorUnavailableError,
    process_tree,
)

SLEEPER = "import time; print('ready', flush=True); time.sleep(600)"
WITH_GRANDCHILD = (
    "import subprocess, sys, time;"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
    "print('ready', flush=True); time.sleep(600)"
)
DIES_AT_START = "import sys; print('boom', flush=True); sys.exit(3)"


def http_child(port: int) -> str:
    return (
        "import http.server as h;"
        f"h.HTTPServer(('127.0.0.1', {port}), h.SimpleHTTPRequestHandler).serve_forever()"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python(name: str, code: str, **fields: object) -> ProcessSpec:
    fields.setdefault("readiness", ReadinessProbe(log="ready"))
    return ProcessSpec(name, "custom", sys.executable, ("-c", code), **fields)  # type: ignore[arg-type]


Launch = Callable[[Mapping[str, ProcessSpec]], SupervisordProcess]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start supervisord over a table of specs; everything is stopped after the test."""
    started: list[SupervisordProcess] = []

    def run(specs: Mapping[str, ProcessSpec]) -> SupervisordProcess:
        daemon = SupervisordProcess(ProcessTable(specs), RunPaths.of(tmp_path, tmp_path / "logs"))
        started.append(daemon)
        daemon.start()
        return daemon

    yield run
    for daemon in started:
        daemon.stop()


def until(condition: Callable[[], bool], *, seconds: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_processes_start_in_dependency_order_each_after_its_dependency_is_ready(
    launch: Launch, tmp_path: Path
) -> None:
    port = free_port()
    sock = tmp_path / "b.sock"
    unix_child = (
        "import socket, time; s = socket.socket(socket.AF_UNIX);"
        f"s.bind({str(sock)!r}); s.listen(); time.sleep(600)"
    )
    specs = {
        "c": python("c", http_child(port), depends_on=("b",),
                    readiness=ReadinessProbe(http=f"http://127.0.0.1:{port}/")),
        "b": python("b", unix_child, depends_on=("a",), readiness=ReadinessProbe(unix=str(sock))),
        "a": python("a", SLEEPER),
    }  # fmt: skip
    supervisor = launch(specs).supervisor
    order: list[str] = []

    def ready(spec: ProcessSpec, _seconds: float) -> None:
        for dep in spec.depends_on:
            assert supervisor.process(dep).pid is not None
        order.append(spec.name)

    infos = supervisor.start_all(on_ready=ready)
    assert order == ["a", "b", "c"]
    assert [i.name for i in infos] == ["a", "b", "c"]
    for info in infos:
        assert info.state in ("STARTING", "RUNNING")
        assert info.pid is not None
        assert info.rss_bytes > 0
        assert info.threads >= 1
        assert info.restarts == 0
    assert "ready" in supervisor.tail("a")


def test_stop_all_leaves_no_process_of_the_tree(launch: Launch) -> None:
    daemon = launch({"a": python("a", WITH_GRANDCHILD), "b": python("b", SLEEPER)})
    supervisor = daemon.supervisor
    supervisor.start_all()
    assert daemon.pid is not None
    tree = process_tree(daemon.pid)
    assert len(tree) >= 4  # supervisord, a, a's child, b
    infos = supervisor.stop_all()
    assert {i.state for i in infos} == {"STOPPED"}
    daemon.stop()
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert alive == []
    assert len(gone) == len(tree)


def test_a_critical_child_killed_with_sigkill_is_back_and_ready_with_an_alert_raised_and_resolved(
    launch: Launch,
) -> None:
    port = free_port()
    probe = ReadinessProbe(http=f"http://127.0.0.1:{port}/")
    daemon = launch({"web": python("web", http_child(port), readiness=probe)})
    supervisor = daemon.supervisor
    bus = InProcessBus(name="test")
    seen: list[dict[str, object]] = []
    bus.subscribe("sys.>", lambda _topic, message: seen.append(message))  # type: ignore[arg-type]
    monitor = ProcessMonitor(supervisor, publish=bus.publish)
    supervisor.start_all()
    until(lambda: supervisor.process("web").running, what="web RUNNING")
    monitor.poll()
    old = supervisor.process("web").pid
    assert old is not None
    mark = LogMark(supervisor.log_path("web"))
    os.kill(old, signal.SIGKILL)
    until(lambda: supervisor.process("web").pid not in (None, old), what="a new web process")
    supervisor.wait_ready(supervisor.table["web"], mark)
    monitor.poll()
    raised = [e.alert for e in monitor.alert_events if e.kind == "raised"]
    assert [(a.rule, a.subject) for a in raised] == [("process-down", "processes:state/web")]
    until(lambda: supervisor.process("web").running, what="web RUNNING again")
    monitor.poll()
    assert [e.kind for e in monitor.alert_events] == ["resolved"]
    assert supervisor.process("web").restarts == 1
    crashed = [m for m in seen if m.get("detail") == "crashed (not expected)"]
    assert [m["name"] for m in crashed] == ["web"]
    assert {m.get("kind") for m in seen if "rule" in m} == {"raised", "resolved"}


def test_a_child_that_dies_at_start_goes_backoff_then_fatal_with_an_alert_and_others_run_on(
    launch: Launch,
) -> None:
    specs = {
        "good": python("good", SLEEPER),
        "bad": python("bad", DIES_AT_START, startretries=1, critical=False),
    }
    supervisor = launch(specs).supervisor
    monitor = ProcessMonitor(supervisor)
    supervisor.start("good")
    states: list[str] = []

    def fatal() -> bool:
        states.append(supervisor.process("bad").state)
        return states[-1] == "FATAL"

    supervisor.rpc.start("bad")
    until(fatal, what="bad FATAL")
    with pytest.raises(NotReadyError, match="bad is FATAL"):
        supervisor.start("bad")
    assert "BACKOFF" in states
    monitor.poll()
    raised = [e.alert for e in monitor.alert_events if e.kind == "raised"]
    assert ("process-down", "processes:state/bad") in [(a.rule, a.subject) for a in raised]
    assert "FATAL" in raised[0].summary
    assert supervisor.process("good").state in ("STARTING", "RUNNING")


def test_a_process_over_its_memory_limit_raises_an_alert_and_restart_replaces_it(
    launch: Launch,
) -> None:
    tiny = ProcessLimits(memory_mb=1, action="restart")
    supervisor = launch({"a": python("a", SLEEPER, limits=tiny)}).supervisor
    monitor = ProcessMonitor(supervisor)
    supervisor.start_all()
    old = supervisor.process("a").pid
    monitor.poll()
    raised = [e.alert for e in monitor.alert_events if e.kind == "raised"]
    assert [(a.rule, a.subject) for a in raised] == [("process-limit", "processes:limits/a")]
    assert "memory" in raised[0].summary
    until(lambda: supervisor.process("a").pid not in (None, old), what="a restarted")


def test_without_supervisord_every_call_says_the_system_is_not_up(tmp_path: Path) -> None:
    paths = RunPaths.of(tmp_path, tmp_path / "logs")
    supervisor = Supervisor(ProcessTable({"a": python("a", SLEEPER)}), paths)
    with pytest.raises(SupervisorUnavailableError, match="is `stockyard up` running"):
        supervisor.processes()
    supervisor.close()
