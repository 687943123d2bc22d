"""``/api/v1/processes`` over a real hub (uvicorn in a thread) whose services drive an
in-memory supervisor: a read key lists, a read key is refused control (403, nothing
changed), an admin key restarts (audited), an unknown name is a 404, and a hub without a
supervisor answers 503, each error as ``{"code", "message"}``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.unit.services.conftest import MemorySupervisor

from stockyard.api import Control, HealthServer, enable_control, health_app
from stockyard.config import load_settings
from stockyard.services import Caller, ProcessControl, admin_key_path


class Hub:
    def __init__(self, home: Path, supervisor: ProcessControl | None) -> None:
        settings = load_settings(overrides={"home": str(home)})
        app = health_app(settings, metrics=CollectorRegistry())
        self.control: Control = enable_control(
            app, settings, host="127.0.0.1", supervisor=supervisor
        )
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()
        self.admin = {"X-API-Key": admin_key_path(settings.home).read_text().strip()}
        made = self.control.services.access.create_key("viewer", "read", caller=Caller.local())
        self.reader = {"X-API-Key": made.secret}

    def close(self) -> None:
        self.server.stop()
        self.control.close()


@pytest.fixture
def supervisor() -> MemorySupervisor:
    made = MemorySupervisor("node@main", "hub")
    made.start_all()
    return made


@pytest.fixture
def hub(tmp_path: Path, supervisor: MemorySupervisor) -> Iterator[Hub]:
    made = Hub(tmp_path / "home", supervisor)
    try:
        yield made
    finally:
        made.close()


def test_the_process_routes_are_in_the_openapi(hub: Hub) -> None:
    paths = hub.server.app.openapi()["paths"]
    assert "get" in paths["/api/v1/processes"]
    for verb in ("start", "stop", "restart"):
        operation = paths[f"/api/v1/processes/{{name}}/{verb}"]["post"]
        assert {"403", "404", "503"} <= set(operation["responses"])
    assert "post" in paths["/api/v1/processes/start-all"]
    assert "post" in paths["/api/v1/processes/stop-all"]


def test_a_read_key_lists_the_processes(hub: Hub, supervisor: MemorySupervisor) -> None:
    answer = httpx.get(f"{hub.server.url}/api/v1/processes", headers=hub.reader)
    assert answer.status_code == 200
    assert [(p["name"], p["state"], p["pid"]) for p in answer.json()] == [
        ("node@main", "RUNNING", supervisor.pids["node@main"]),
        ("hub", "RUNNING", supervisor.pids["hub"]),
    ]
    assert {"uptime_s", "restarts", "cpu_percent", "rss_bytes", "threads", "open_files"} <= set(
        answer.json()[0]
    )


def test_a_read_key_is_refused_every_control_route_and_nothing_changes(
    hub: Hub, supervisor: MemorySupervisor
) -> None:
    before = dict(supervisor.pids)
    with httpx.Client(base_url=f"{hub.server.url}/api/v1", headers=hub.reader) as client:
        for path in (
            "/processes/hub/start",
            "/processes/hub/stop",
            "/processes/hub/restart",
            "/processes/start-all",
            "/processes/stop-all",
        ):
            answer = client.post(path)
            assert answer.status_code == 403, path
            assert answer.json()["code"] == "forbidden"
            assert set(answer.json()) == {"code", "message"}
    assert supervisor.pids == before
    assert set(supervisor.states.values()) == {"RUNNING"}


def test_an_admin_key_restarts_a_process_and_the_call_is_audited(
    hub: Hub, supervisor: MemorySupervisor
) -> None:
    before = supervisor.pids["node@main"]
    answer = httpx.post(f"{hub.server.url}/api/v1/processes/node@main/restart", headers=hub.admin)
    assert answer.status_code == 200
    assert answer.json()["state"] == "RUNNING"
    assert answer.json()["pid"] == supervisor.pids["node@main"] != before
    (entry,) = hub.control.services.access.audit(action="processes.restart")
    assert (entry.key_name, entry.via, entry.args, entry.ok) == (
        "local-admin",
        "api",
        {"name": "node@main"},
        True,
    )


def test_an_unknown_process_is_a_404_with_the_error_shape(hub: Hub) -> None:
    answer = httpx.post(f"{hub.server.url}/api/v1/processes/nope/stop", headers=hub.admin)
    assert answer.status_code == 404
    assert answer.json()["code"] == "unknown_process"
    assert "'nope'" in answer.json()["message"]


def test_a_hub_without_a_supervisor_answers_503(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "home", None)
    try:
        listed = httpx.get(f"{hub.server.url}/api/v1/processes", headers=hub.reader)
        started = httpx.post(f"{hub.server.url}/api/v1/processes/hub/start", headers=hub.admin)
    finally:
        hub.close()
    for answer in (listed, started):
        assert answer.status_code == 503
        assert answer.json()["code"] == "no_supervisor"
        assert set(answer.json()) == {"code", "message"}
