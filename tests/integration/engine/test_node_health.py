"""The node's health against a real sandbox, wired as ``up --single-process`` wires it (the
node on its thread, its checks merged into a health service as ``node@sandbox:*``): the
broker check probes the sandbox the node trades on with the node's keys, follows it down
and back, lists the node's breaker; keys the sandbox does not know fail as authentication."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from tests.integration.sandbox.conftest import KEY, SECRET, make_config

from stockyard.bus import InProcessBus
from stockyard.config import Settings, load_settings
from stockyard.data import ParquetStore
from stockyard.engine import NodeHealth, NodeThread, TradingNode, build_node
from stockyard.engine._node_health import broker, replay
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.health import HealthRegistry, HealthReport, HealthService, HealthStatus
from stockyard.resilience import BreakerRegistry, ErrorRegistry
from stockyard.sandbox import SandboxServer
from stockyard.strategy import create_strategy


def _settings(home: Path, key: str = KEY, secret: str = SECRET) -> Settings:
    return load_settings(
        env={"STOCKYARD_HOME": str(home), "APCA_API_KEY_ID": key, "APCA_API_SECRET_KEY": secret}
    )


def _node(
    settings: Settings,
    server: SandboxServer,
    errors: ErrorRegistry | None = None,
    breakers: BreakerRegistry | None = None,
) -> TradingNode:
    bot = create_strategy("sma_cross", symbols=["AAPL"], params={"fast": 3, "slow": 8, "qty": 1})
    return build_node(
        settings,
        strategies=[bot],
        broker="sandbox",
        bus=InProcessBus(name="node"),
        sandbox_url=server.base_url,
        errors=errors or ErrorRegistry(),
        breakers=breakers or BreakerRegistry(),
    )


def _service(node: NodeHealth) -> HealthService:
    """The health service of the node's process: the registries are the node's."""
    assert isinstance(node.node.broker, AlpacaBroker)
    breakers = BreakerRegistry()
    breakers.register(node.node.broker.breaker)
    service = HealthService(
        registry=HealthRegistry(),
        interval=1,
        timeout=2,
        errors=node.node.errors,
        breakers=breakers,
        metrics=CollectorRegistry(),
    )
    service.add_source(node)
    return service


def _until_status(service: HealthService, status: HealthStatus, within: float) -> HealthReport:
    deadline = time.monotonic() + within
    while True:
        report = asyncio.run(service.run_now())
        if report.status is status:
            return report
        assert time.monotonic() < deadline, {
            k: [o.output for o in r.observations] for k, r in report.checks.items()
        }
        time.sleep(0.2)


def test_health_follows_the_sandbox_down_and_back_naming_the_broker(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    server = SandboxServer(make_config(state_path=state)).start()
    port, url = server.port, server.base_url
    node = _node(_settings(tmp_path / "home"), server)
    thread = NodeThread(node).start()
    try:
        assert thread.loop is not None
        service = _service(NodeHealth(node, account="sandbox", loop=thread.loop, timeout=2))
        report = _until_status(service, HealthStatus.PASS, within=30)
        (probe,) = report.checks["node@sandbox:broker"].observations
        assert probe.output == f"broker sandbox at {url}: account read"
        assert service.breaker_states()["node@sandbox:alpaca.trading"]["state"] == "closed"
        (listed,) = report.checks["node@sandbox:breakers"].observations
        assert listed.component_id == "alpaca.trading"

        assert service.errors()["total"] == 0
        server.stop()
        report = asyncio.run(service.run_now())  # one cycle
        assert report.status is HealthStatus.FAIL
        (probe,) = report.checks["node@sandbox:broker"].observations
        assert probe.status is HealthStatus.FAIL
        assert probe.output.startswith(f"broker sandbox at {url} unreachable: ConnectionError")
        # The feed's failed reconnects land in the one registry the health service reads.
        deadline = time.monotonic() + 30
        while not any(r["component"] == "data_pipeline" for r in _recent(service)):
            assert time.monotonic() < deadline, service.errors()
            time.sleep(0.1)

        server = SandboxServer(make_config(state_path=state, port=port)).start()
        report = _until_status(service, HealthStatus.PASS, within=30)
        assert report.checks["node@sandbox:broker"].status is HealthStatus.PASS
    finally:
        thread.stop()
        server.stop()


def _recent(service: HealthService) -> list[dict[str, object]]:
    recent = service.errors()["recent"]
    assert isinstance(recent, list)
    return recent


def test_keys_the_sandbox_does_not_know_fail_the_broker_check_as_authentication(
    tmp_path: Path,
) -> None:
    server = SandboxServer(make_config()).start()
    try:
        wrong = _settings(tmp_path, key="NOTOURS", secret="not-the-secret")
        node = _node(wrong, server)
        loop = asyncio.new_event_loop()
        try:
            found = broker(node, loop=loop, timeout_s=5)
        finally:
            loop.close()
        assert found.status is HealthStatus.FAIL
        assert found.output == (
            f"broker sandbox at {server.base_url} refused the node's keys (HTTP 401): "
            "authentication failed"
        )
        assert "not-the-secret" not in found.output
        right = _node(_settings(tmp_path), server)
        loop = asyncio.new_event_loop()
        try:
            assert broker(right, loop=loop, timeout_s=5).status is HealthStatus.PASS
        finally:
            loop.close()
    finally:
        server.stop()


def test_a_sandbox_replay_that_ran_out_of_data_says_so(tmp_path: Path) -> None:
    empty = ParquetStore(tmp_path / "no-data")  # nothing to replay: the replay ends at once
    server = SandboxServer(make_config(source=empty, speed=60.0)).start()
    try:
        node = _node(_settings(tmp_path / "home"), server)
        deadline = time.monotonic() + 30
        while (found := replay(node, timeout_s=5)).status is HealthStatus.PASS:
            assert time.monotonic() < deadline, found.output
            time.sleep(0.1)
        assert found.status is HealthStatus.WARN
        assert found.output.startswith("the sandbox replay has run out of data at ")
        assert found.output.endswith(": no more market data")
    finally:
        server.stop()
