"""The process service over an in-memory supervisor: a read key lists, a read key may not
start anything (403, nothing changed), an admin key restarts and is audited, an unknown
name is a 404, and no supervisor (single-process mode) or a silent one is a 503."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tests.unit.services.conftest import MemorySupervisor

from stockyard.services import AccessService, Caller, ProcessService, ServiceError
from stockyard.store import KeyScope, open_database


def _access(tmp_path: Path) -> AccessService:
    return AccessService(open_database(f"sqlite:///{tmp_path / 'state.db'}"))


def _caller(scope: KeyScope) -> Caller:
    return Caller(key_id=None, name=f"{scope.value}-key", scope=scope, via="api")


def test_a_read_key_lists_the_processes_with_their_state_and_pid(tmp_path: Path) -> None:
    supervisor = MemorySupervisor("feed", "hub")
    supervisor.start("hub")
    service = ProcessService(supervisor, auditor=_access(tmp_path).auditor)
    found = asyncio.run(service.processes())
    assert [(p.name, p.state, p.pid) for p in found] == [
        ("feed", "STOPPED", None),
        ("hub", "RUNNING", supervisor.pids["hub"]),
    ]
    assert found[1].running


def test_a_read_key_may_not_start_a_process_nothing_changes_and_the_refusal_is_audited(
    tmp_path: Path,
) -> None:
    access = _access(tmp_path)
    supervisor = MemorySupervisor("hub")
    service = ProcessService(supervisor, auditor=access.auditor)
    for act in (
        lambda: service.start("hub", caller=_caller(KeyScope.READ)),
        lambda: service.restart("hub", caller=_caller(KeyScope.TRADE)),
        lambda: service.start_all(caller=_caller(KeyScope.TRADE)),
    ):
        with pytest.raises(ServiceError) as refused:
            asyncio.run(act())
        assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert supervisor.states == {"hub": "STOPPED"}
    assert supervisor.spawns == {"hub": 0}
    entries = access.audit()
    assert len(entries) == 3
    assert not any(e.ok for e in entries)


def test_an_admin_key_restarts_a_process_with_a_new_pid_and_the_call_is_audited(
    tmp_path: Path,
) -> None:
    access = _access(tmp_path)
    supervisor = MemorySupervisor("node@main", "hub")
    service = ProcessService(supervisor, auditor=access.auditor)
    admin = _caller(KeyScope.ADMIN)
    started = asyncio.run(service.start_all(caller=admin))
    assert [p.state for p in started] == ["RUNNING", "RUNNING"]
    before = started[0].pid
    after = asyncio.run(service.restart("node@main", caller=admin))
    assert after.state == "RUNNING"
    assert after.pid is not None
    assert after.pid != before
    assert after.restarts == 1
    (entry,) = access.audit(action="processes.restart")
    assert (entry.key_name, entry.via, entry.args, entry.ok) == (
        "admin-key",
        "api",
        {"name": "node@main"},
        True,
    )
    stopped = asyncio.run(service.stop_all(caller=admin))
    assert {p.state for p in stopped} == {"STOPPED"}
    assert [e.action for e in access.audit()] == [
        "processes.stop_all",
        "processes.restart",
        "processes.start_all",
    ]


def test_an_unknown_process_is_a_404_naming_the_table_and_nothing_changes(
    tmp_path: Path,
) -> None:
    access = _access(tmp_path)
    supervisor = MemorySupervisor("hub")
    service = ProcessService(supervisor, auditor=access.auditor)
    with pytest.raises(ServiceError) as unknown:
        asyncio.run(service.stop("nope", caller=_caller(KeyScope.ADMIN)))
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_process")
    assert "'nope'" in unknown.value.message
    assert "hub" in unknown.value.message
    assert supervisor.states == {"hub": "STOPPED"}
    (entry,) = access.audit(action="processes.stop")
    assert not entry.ok


def test_without_a_supervisor_every_call_is_a_503_with_a_clear_message(tmp_path: Path) -> None:
    service = ProcessService(None, auditor=_access(tmp_path).auditor)
    assert not service.supervised
    with pytest.raises(ServiceError) as listed:
        asyncio.run(service.processes())
    assert (listed.value.status, listed.value.code) == (503, "no_supervisor")
    assert "single-process" in listed.value.message
    with pytest.raises(ServiceError) as started:
        asyncio.run(service.start("hub", caller=_caller(KeyScope.ADMIN)))
    assert started.value.status == 503


def test_a_supervisord_that_does_not_answer_is_a_503(tmp_path: Path) -> None:
    supervisor = MemorySupervisor("hub")
    service = ProcessService(supervisor, auditor=_access(tmp_path).auditor)
    supervisor.answering = False
    with pytest.raises(ServiceError) as down:
        asyncio.run(service.processes())
    assert (down.value.status, down.value.code) == (503, "supervisor_unavailable")
    assert "does not answer" in down.value.message


def test_the_sampler_keeps_a_ring_of_each_running_processes_resources_and_announces_it(
    tmp_path: Path,
) -> None:
    supervisor = MemorySupervisor("worker", "idle")
    supervisor.start("worker")
    service = ProcessService(supervisor, auditor=_access(tmp_path).auditor)
    announced: list[tuple[str, dict[str, object]]] = []
    service.start_sampling(lambda t, d: announced.append((t, d)), interval_s=0.01, keep=5)
    try:
        deadline = time.monotonic() + 10
        while len(announced) < 8:
            assert time.monotonic() < deadline, "the sampler took no samples"
            time.sleep(0.005)
    finally:
        service.close()
    history = service.history()
    assert list(history) == ["worker"]  # a stopped process has nothing to measure
    assert len(history["worker"]) == 5  # the ring keeps the newest ``keep``
    rounds = [d for t, d in announced if t == "processes" and d["kind"] == "resources"]
    assert rounds[0] == {"kind": "resources", "processes": 2}


def test_the_sampler_announces_each_change_of_a_processes_state(tmp_path: Path) -> None:
    supervisor = MemorySupervisor("worker", "idle")
    supervisor.start("worker")
    service = ProcessService(supervisor, auditor=_access(tmp_path).auditor)
    announced: list[dict[str, object]] = []
    service.start_sampling(lambda _t, d: announced.append(d), interval_s=0.01, keep=5)

    def states() -> list[dict[str, object]]:
        return [d for d in list(announced) if d["kind"] == "state"]

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 10
        while len(states()) < count:
            assert time.monotonic() < deadline, f"states announced: {states()}"
            time.sleep(0.005)

    try:
        wait_for(2)  # the first round tells every process's state
        first = {d["name"]: (d["from"], d["to"]) for d in states()}
        assert first == {"worker": (None, "RUNNING"), "idle": (None, "STOPPED")}
        supervisor.stop("worker")
        wait_for(3)
    finally:
        service.close()
    assert states()[2] == {
        "kind": "state",
        "name": "worker",
        "from": "RUNNING",
        "to": "STOPPED",
        "pid": None,
    }
    assert len(states()) == 3  # rounds without a change announce none
