"""``stockyard up`` under supervisord, and ``ps``, ``start``, ``stop``, ``restart``, ``logs``
against it: real processes, real files."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # the fixture's type, from tests/e2e/conftest.py
    from conftest import SupervisedSystem


def _ps(system: SupervisedSystem) -> dict[str, dict[str, object]]:
    result = system.cli("ps", "--json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.1)


def _serves(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_runs_each_process_apart_and_ps_shows_them_with_their_resources(
    supervised_system: SupervisedSystem,
) -> None:
    rows = _ps(supervised_system)
    assert list(rows) == ["sandbox", "node@sandbox", "hub"]
    pids = {row["pid"] for row in rows.values()}
    assert None not in pids
    assert len(pids) == 3
    for row in rows.values():
        assert row["state"] == "RUNNING"
        assert isinstance(row["rss_bytes"], int)
        assert row["rss_bytes"] > 0
        assert isinstance(row["threads"], int)
        assert row["threads"] >= 1
        assert row["restarts"] == 0
    health = httpx.get(f"{supervised_system.hub_url}/health/detailed", timeout=10).json()
    observed = health["checks"]["processes:state"]
    states = {o.get("componentId"): o["status"] for o in observed}
    assert states == {"sandbox": "pass", "node@sandbox": "pass", "hub": "pass"}
    metrics = httpx.get(f"{supervised_system.hub_url}/metrics", timeout=10).text
    assert 'stockyard_health_check_value{check="processes:memory",component="node@sandbox"' in (
        metrics
    )
    logs = supervised_system.cli("logs", "node@sandbox")
    assert "node ready: account sandbox" in logs.stdout


def test_stop_start_and_restart_a_process_by_name(supervised_system: SupervisedSystem) -> None:
    livez = f"{supervised_system.hub_url}/livez"
    stopped = supervised_system.cli("stop", "hub", "--json")
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)[0]["state"] == "STOPPED"
    assert not _serves(livez)
    started = supervised_system.cli("start", "hub")
    assert started.returncode == 0, started.stderr
    assert _serves(livez)
    before = _ps(supervised_system)["node@sandbox"]["pid"]
    restarted = supervised_system.cli("restart", "node@sandbox", "--json")
    assert restarted.returncode == 0, restarted.stderr
    after = json.loads(restarted.stdout)[0]
    assert after["pid"] not in (None, before)
    unknown = supervised_system.cli("stop", "nope")
    assert unknown.returncode == 2
    assert "no process named 'nope'" in unknown.stderr


def test_the_clis_process_control_lands_in_the_audit_log_as_the_local_user(
    supervised_system: SupervisedSystem,
) -> None:
    def audit() -> list[dict[str, object]]:
        shown = supervised_system.cli("audit", "--json", "--limit", "1000")
        assert shown.returncode == 0, shown.stderr
        return [e for e in json.loads(shown.stdout) if str(e["action"]).startswith("processes.")]

    before = len(audit())
    for verb in ("stop", "start", "restart"):
        done = supervised_system.cli(verb, "node@sandbox")
        assert done.returncode == 0, done.stderr
    again = supervised_system.cli("start", "node@sandbox")  # running: a no-op, still audited
    assert again.returncode == 0, again.stderr
    found = audit()
    entries = found[: len(found) - before]  # newest first
    assert [e["action"] for e in reversed(entries)] == [
        "processes.stop",
        "processes.start",
        "processes.restart",
        "processes.start",
    ]
    for entry in entries:
        assert entry["args"] == {"name": "node@sandbox"}
        assert entry["key_name"] == "local"
        assert entry["via"] == "cli"
        assert entry["ok"] is True


def test_a_node_killed_with_sigkill_is_restarted_and_no_second_node_takes_its_account(
    supervised_system: SupervisedSystem,
) -> None:
    old = _ps(supervised_system)["node@sandbox"]["pid"]
    assert isinstance(old, int)
    os.kill(old, signal.SIGKILL)
    _until(lambda: _ps(supervised_system)["node@sandbox"]["pid"] not in (None, old))
    _until(lambda: _ps(supervised_system)["node@sandbox"]["state"] == "RUNNING")
    assert _ps(supervised_system)["node@sandbox"]["restarts"] >= 1
    second = supervised_system.cli("node", "sandbox")
    assert second.returncode == 1
    assert "account sandbox is already traded by" in second.stderr


def test_the_hub_controls_a_restarted_node_and_relays_its_events_again(
    supervised_system: SupervisedSystem,
) -> None:
    key = (supervised_system.home / "run" / "admin.key").read_text().strip()
    api = httpx.Client(
        base_url=f"{supervised_system.hub_url}/api/v1", headers={"X-API-Key": key}, timeout=30
    )
    with api:
        assert api.get("/bots").json()["node"] == "sandbox"
        restarted = supervised_system.cli("restart", "node@sandbox")
        assert restarted.returncode == 0, restarted.stderr
        _until(lambda: api.get("/bots").status_code == 200)
        # Opened after the restart: every bar on it comes from the new node, relayed.
        with api.stream("GET", "/events", params={"topics": "bars"}) as stream:
            deadline = time.monotonic() + 60
            for line in stream.iter_lines():  # a keep-alive comment every 15 s at the least
                if line == "event: bars":
                    break
                assert time.monotonic() < deadline, "no bar relayed from the restarted node"
            else:
                raise AssertionError("the event stream ended without a bar")


def test_a_second_up_on_the_same_home_refuses(supervised_system: SupervisedSystem) -> None:
    second = supervised_system.cli("up", "--duration", "1s")
    assert second.returncode == 1
    assert "stockyard up is already running on" in second.stderr
    assert _ps(supervised_system)["hub"]["state"] == "RUNNING"


def _broker_check(system: SupervisedSystem) -> tuple[int, dict[str, object]]:
    response = httpx.get(f"{system.hub_url}/health/detailed", timeout=10)
    return response.status_code, response.json()["checks"]["node@sandbox:broker"][0]


def test_stopping_the_sandbox_fails_health_naming_the_broker_and_its_return_passes_again(
    supervised_system: SupervisedSystem,
) -> None:
    """Issue "One operable system" (health), against the supervised system: the hub's
    health has the node's checks (merged from its socket), the node's broker check probes
    the sandbox it trades on, and follows it down and back up within an interval or two."""
    _until(lambda: _broker_check(supervised_system)[1]["status"] == "pass", 60)
    stopped = supervised_system.cli("stop", "sandbox")
    assert stopped.returncode == 0, stopped.stderr
    began = time.monotonic()
    _until(lambda: _broker_check(supervised_system)[1]["status"] == "fail", 30)
    assert time.monotonic() - began < 10  # 1 s interval: a cycle or two, and the CLI's reply
    code, broker = _broker_check(supervised_system)
    assert code == 503
    assert str(broker["output"]).startswith(
        f"broker sandbox at {supervised_system.sandbox_url} unreachable"
    )
    started = supervised_system.cli("start", "sandbox")
    assert started.returncode == 0, started.stderr
    _until(lambda: _broker_check(supervised_system)[1]["status"] == "pass", 30)
    checks = httpx.get(f"{supervised_system.hub_url}/health/detailed", timeout=10).json()["checks"]
    assert [o["status"] for o in checks["node@sandbox:trading"]] == ["pass"]
