"""The typed client's process calls, sync and async, against a real hub whose services
drive an in-memory supervisor; a refusal is an ``ApiError`` with the API's code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from tests.unit.services.conftest import MemorySupervisor

from stockyard.api import Control, HealthServer, enable_control, health_app
from stockyard.client import ApiError, AsyncStockyardClient, StockyardClient
from stockyard.config import load_settings
from stockyard.services import Caller, admin_key_path


class Hub:
    def __init__(self, home: Path, supervisor: MemorySupervisor) -> None:
        settings = load_settings(overrides={"home": str(home)})
        app = health_app(settings, metrics=CollectorRegistry())
        self.control: Control = enable_control(
            app, settings, host="127.0.0.1", supervisor=supervisor
        )
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()
        self.admin = admin_key_path(settings.home).read_text().strip()
        self.reader = self.control.services.access.create_key(
            "viewer", "read", caller=Caller.local()
        ).secret

    def close(self) -> None:
        self.server.stop()
        self.control.close()


@pytest.fixture
def supervisor() -> MemorySupervisor:
    return MemorySupervisor("node@main", "hub")


@pytest.fixture
def hub(tmp_path: Path, supervisor: MemorySupervisor) -> Iterator[Hub]:
    made = Hub(tmp_path / "home", supervisor)
    try:
        yield made
    finally:
        made.close()


def test_the_sync_client_starts_restarts_and_stops_the_processes(
    hub: Hub, supervisor: MemorySupervisor
) -> None:
    with StockyardClient(hub.server.url, key=hub.admin) as client:
        assert [p.state for p in client.start_all()] == ["RUNNING", "RUNNING"]
        before = supervisor.pids["hub"]
        restarted = client.restart_process("hub")
        assert restarted.pid == supervisor.pids["hub"] != before
        assert client.stop_process("hub").state == "STOPPED"
        assert client.start_process("hub").state == "RUNNING"
        assert [p.name for p in client.processes()] == ["node@main", "hub"]
        assert {p.state for p in client.stop_all()} == {"STOPPED"}
        with pytest.raises(ApiError) as unknown:
            client.restart_process("nope")
        assert (unknown.value.status, unknown.value.code) == (404, "unknown_process")
    actions = [e.action for e in hub.control.services.access.audit()]
    assert actions.count("processes.restart") == 2  # one done, one refused


def test_the_async_client_lists_and_a_read_key_may_not_start(
    hub: Hub, supervisor: MemorySupervisor
) -> None:
    async def scenario() -> None:
        async with AsyncStockyardClient(hub.server.url, key=hub.reader) as client:
            listed = await client.processes()
            assert [(p.name, p.state) for p in listed] == [
                ("node@main", "STOPPED"),
                ("hub", "STOPPED"),
            ]
            with pytest.raises(ApiError) as refused:
                await client.start_process("hub")
            assert (refused.value.status, refused.value.code) == (403, "forbidden")
        async with AsyncStockyardClient(hub.server.url, key=hub.admin) as client:
            assert (await client.start_process("hub")).state == "RUNNING"
            assert {p.state for p in await client.stop_all()} == {"STOPPED"}
            assert [p.state for p in await client.start_all()] == ["RUNNING", "RUNNING"]
            assert (await client.stop_process("hub")).state == "STOPPED"
            assert (await client.restart_process("hub")).state == "RUNNING"

    asyncio.run(scenario())
    assert supervisor.spawns == {"node@main": 1, "hub": 3}
