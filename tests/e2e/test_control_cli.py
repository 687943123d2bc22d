"""Done when (issue "Control"): from a running ``stockyard up`` on the sandbox, with a
``trade`` key, list positions, place and cancel an order, pause a bot, halt with flatten
(the sandbox account is flat afterwards), resume — through the REST API, the client and the
CLI; every control call is in the audit log with the key's name and result; a backtest
launched over the API reports progress on the event stream and its result is fetched by id."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stockyard.client import StockyardClient
from stockyard.services import BacktestSpec

STOCKYARD = [sys.executable, "-m", "stockyard"]
HEALTH_INTERVAL_S = 1
SANDBOX = {"APCA-API-KEY-ID": "E2EKEY", "APCA-API-SECRET-KEY": "e2e-secret-5f4e3d"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(check: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


class System:
    """``stockyard up`` in a process of its own, on free ports, in a home of its own:
    supervised (the default: sandbox, node and hub processes under supervisord) or with
    ``--single-process``."""

    def __init__(self, home: Path, *mode: str) -> None:
        self.home = home
        self.supervised = "--single-process" not in mode
        self.port, self.sandbox_port = _free_port(), _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
        for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
            env.pop(name, None)
        self.env = env | {
            "STOCKYARD_HOME": str(home),
            "HEALTH_API_PORT": str(self.port),
            "STOCKYARD_SANDBOX__PORT": str(self.sandbox_port),
            "STOCKYARD_SANDBOX__KEY_ID": SANDBOX["APCA-API-KEY-ID"],
            "STOCKYARD_SANDBOX__SECRET_KEY": SANDBOX["APCA-API-SECRET-KEY"],
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "HEALTH_CHECK_INTERVAL": str(HEALTH_INTERVAL_S),
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.err = home / "up.err"
        with self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [*STOCKYARD, "up", *mode],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=home,
            )
        log = home / "logs" / "trading_system.log"
        _until(
            lambda: (
                self.process.poll() is not None
                or (log.exists() and "stockyard up" in log.read_text(encoding="utf-8"))
            ),
            "stockyard up",
            timeout=240.0,
        )
        assert self.process.poll() is None, self.err.read_text()
        self.admin = (home / "run" / "admin.key").read_text().strip()

    def cli(self, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        env = self.env | {"STOCKYARD_URL": self.url}
        if key is not None:
            env["STOCKYARD_API_KEY"] = key
        return subprocess.run(
            [*STOCKYARD, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def sandbox(self, path: str) -> object:
        url = f"http://127.0.0.1:{self.sandbox_port}{path}"
        return httpx.get(url, headers=SANDBOX, timeout=10).json()

    def sign_in_link(self) -> str:
        """The one-time dashboard link ``up`` printed."""
        found = re.search(r"one-time link, 5 minutes\): (\S+)", self.err.read_text())
        assert found is not None, self.err.read_text()
        return found.group(1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module", params=["supervised", "single-process"])
def system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """One system per mode for the module's tests (each leaves it resumed)."""
    mode = () if request.param == "supervised" else ("--single-process",)
    made = System(tmp_path_factory.mktemp(request.param), *mode)
    try:
        yield made
    finally:
        code = made.stop()
    assert code == 0, made.err.read_text()


def test_the_sign_in_link_up_printed_opens_a_signed_in_overview(system: System) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        page = browser.get(system.sign_in_link())
        assert page.status_code == 200, page.text[:500]
        assert 'data-testid="page-overview"' in page.text
        assert browser.get(f"{system.url}/").status_code == 200  # the session cookie holds
        if system.supervised:  # the System tab drives the processes of supervisord
            panel = browser.get(f"{system.url}/ui/panel/processes")
            assert panel.status_code == 200, panel.text[:500]
            for name in ("sandbox", "node@sandbox", "hub"):
                assert f'data-testid="process-{name}"' in panel.text


def test_a_trade_key_trades_pauses_halts_flat_and_an_admin_resumes(system: System) -> None:
    made = system.cli("keys", "create", "e2e-trader", "--scope", "trade", "--json")
    assert made.returncode == 0, made.stderr
    trader = json.loads(made.stdout)["secret"]
    api = httpx.Client(base_url=f"{system.url}/api/v1", headers={"X-API-Key": trader}, timeout=30)
    try:
        _trade_pause_halt_resume(system, api, trader)
    finally:
        api.close()


def _trade_pause_halt_resume(system: System, api: httpx.Client, trader: str) -> None:

    # REST: positions, a bot's symbol, an order that fills and one that is canceled.
    assert api.get("/positions").status_code == 200
    bots = api.get("/bots").json()["bots"]
    symbol = bots[0]["symbols"][0]
    placed = api.post("/orders", json={"symbol": symbol, "side": "buy", "qty": "2"})
    assert placed.status_code == 200, placed.text
    filled_id = placed.json()["client_order_id"]
    _until(lambda: api.get(f"/orders/{filled_id}").json()["status"] == "filled", "the fill")
    price = Decimal(api.get(f"/orders/{filled_id}").json()["filled_avg_price"])
    limit = str((price * Decimal("0.95")).quantize(Decimal("0.01")))
    resting = api.post(
        "/orders",
        json={"symbol": symbol, "side": "buy", "qty": "1", "type": "limit", "limit_price": limit},
    )
    assert resting.status_code == 200, resting.text
    resting_id = resting.json()["client_order_id"]
    _until(lambda: api.get(f"/orders/{resting_id}").json()["status"] == "new", "the ack")
    assert api.delete(f"/orders/{resting_id}").status_code == 200
    _until(lambda: api.get(f"/orders/{resting_id}").json()["status"] == "canceled", "cancel")
    at_sandbox = system.sandbox(f"/v2/orders:by_client_order_id?client_order_id={resting_id}")
    assert isinstance(at_sandbox, dict)
    assert at_sandbox["status"] == "canceled"

    # The client: positions hold the fill; pause a bot.
    with StockyardClient(system.url, key=trader) as client:
        held = {p.symbol: p.qty for p in client.positions().positions}
        assert held.get(symbol, Decimal(0)) >= 2
        assert client.pause(bots[0]["bot_id"]).paused

    # The CLI: positions, bots, halt with flatten; resume needs admin.
    shown = system.cli("positions", "--json", key=trader)
    assert shown.returncode == 0, shown.stderr
    assert symbol in {p["symbol"] for p in json.loads(shown.stdout)["positions"]}
    listed = json.loads(system.cli("bots", "ls", "--json", key=trader).stdout)
    assert listed["bots"][0]["paused"] is True
    halted = system.cli("kill", "--flatten", "--json", key=trader)
    assert halted.returncode == 0, halted.stderr
    assert json.loads(halted.stdout)["halted"] is True
    _until(lambda: system.sandbox("/v2/positions") == [], "a flat sandbox account")
    refused = system.cli("resume", key=trader)
    assert refused.returncode == 1
    assert "forbidden" in refused.stderr
    resumed = system.cli("resume", "--json")  # the local admin key file
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["halted"] is False

    audit = json.loads(system.cli("audit", "--json", "--key", "e2e-trader").stdout)
    assert [(e["action"], e["ok"]) for e in reversed(audit)] == [
        ("orders.submit", True),
        ("orders.submit", True),
        ("orders.cancel", True),
        ("bots.pause", True),
        ("kill.flatten", True),
        ("kill.reset", False),
    ]
    for line in (*audit, shown.stdout, listed):
        assert trader not in str(line)


def test_a_backtest_over_the_api_reports_progress_and_its_result_is_fetched(
    system: System,
) -> None:
    spec = BacktestSpec(
        strategy="sma_cross",
        symbols=["AAPL"],
        start=date(2025, 4, 1),
        end=date(2025, 4, 30),
        params={"fast": 5, "slow": 20, "qty": 10},
    )
    with StockyardClient(system.url, key=system.admin) as client:
        job = client.backtest(spec)
        states = []
        for event in client.events("jobs", last_event_id=0):
            if event.subject == job.id:
                states.append((event.data["state"], event.data["progress"]))
                if event.data["state"] in ("done", "failed", "canceled"):
                    break
        done = client.job(job.id)
        assert done.state.value == "done", done.error
        assert states[0][0] == "queued"
        assert ("done", 1.0) in states
        assert done.result_id is not None
        assert "metrics" in client.run(done.result_id)
        jobs = system.cli("jobs", "ls", "--json")
        assert job.id in jobs.stdout


def _detailed(system: System) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{system.url}/health/detailed", timeout=10).json()
    return body


def _not_passing(body: dict[str, Any]) -> dict[str, list[str]]:
    """Every check that does not pass, with its outputs; the machine's CPU aside (the test
    machine is loaded: that check tells the truth about it, not about the system)."""
    return {
        key: [f"{o['status']}: {o.get('output', '')}" for o in found]
        for key, found in body["checks"].items()
        if key != "cpu:utilization" and any(o["status"] != "pass" for o in found)
    }


def test_health_is_true_about_the_node_its_breaker_its_metrics_and_a_halt(system: System) -> None:
    """Issue "One operable system" (health): the node's checks as ``node@sandbox:*`` in both
    modes, all passing; its breaker listed; its metrics merged; a kill-switch halt fails
    with its reason within an interval, and health passes again once released."""
    _until(lambda: not _not_passing(_detailed(system)), "every check to pass", timeout=30)
    body = _detailed(system)
    keys = {k for k in body["checks"] if k.startswith("node@sandbox:")}
    assert {"node@sandbox:broker", "node@sandbox:trading", "node@sandbox:feed"} <= keys
    assert "broker:responseTime" not in body["checks"]  # the node's own probe replaces it
    broker = body["checks"]["node@sandbox:broker"][0]["output"]
    assert f"broker sandbox at http://127.0.0.1:{system.sandbox_port}: account read" == broker
    breakers = {o.get("componentId") for o in body["checks"]["node@sandbox:breakers"]}
    assert breakers == {"alpaca.trading"}
    admin = {"X-API-Key": system.admin}
    listed = httpx.get(f"{system.url}/api/v1/system/breakers", headers=admin, timeout=10).json()
    assert listed["node@sandbox:alpaca.trading"]["state"] == "closed"
    errors = httpx.get(f"{system.url}/health/errors", timeout=10).json()
    assert "node@sandbox:alpaca.trading" in errors["breakers"]
    metrics = httpx.get(f"{system.url}/metrics", timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(metrics)}  # it parses
    states = families["stockyard_health_check_status"].samples
    assert any(s.labels["check"] == "node@sandbox:trading" for s in states)

    reason = "health e2e: halted on purpose"
    halted = httpx.post(
        f"{system.url}/api/v1/kill", json={"reason": reason}, headers=admin, timeout=30
    )
    assert halted.status_code == 200, halted.text
    began = time.monotonic()
    _until(lambda: httpx.get(f"{system.url}/health", timeout=10).status_code == 503, "fail")
    assert time.monotonic() - began < 2 * HEALTH_INTERVAL_S + 5
    trading = _detailed(system)["checks"]["node@sandbox:trading"][0]
    assert trading["status"] == "fail"
    assert trading["output"] == f"halted by the kill switch: {reason}"
    released = httpx.post(f"{system.url}/api/v1/kill/reset", headers=admin, timeout=30)
    assert released.status_code == 200, released.text
    _until(lambda: not _not_passing(_detailed(system)), "health to pass again", timeout=30)
