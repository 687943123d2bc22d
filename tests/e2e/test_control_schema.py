"""schemathesis over ``/api/v1``'s OpenAPI against a running ``stockyard up`` on the sandbox:
no 5xx, every answer as documented (status, content type, schema, headers); with a read key
every control request is refused and changes nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

STOCKYARD = [sys.executable, "-m", "stockyard"]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Running:
    def __init__(self, home: Path) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
        for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
            env.pop(name, None)
        self.env = env | {
            "STOCKYARD_HOME": str(home),
            "HEALTH_API_PORT": str(port),
            "STOCKYARD_SANDBOX__PORT": str(_free_port()),
        }
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [*STOCKYARD, "up"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        log = home / "logs" / "trading_system.log"
        deadline = time.monotonic() + 60
        while not (log.exists() and "stockyard up" in log.read_text(encoding="utf-8")):
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "stockyard up never came up"
            time.sleep(0.1)
        made = subprocess.run(
            [*STOCKYARD, "keys", "create", "fuzz", "--scope", "read", "--rate-exempt", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        self.key = json.loads(made.stdout)["secret"]
        self.admin = (home / "run" / "admin.key").read_text().strip()

    def state(self) -> tuple[object, ...]:
        """What a refused request must not change."""
        with httpx.Client(base_url=self.url, headers={"X-API-Key": self.admin}) as client:
            bots = client.get("/api/v1/bots").json()
            account = client.get("/api/v1/account").json()
            keys = client.get("/api/v1/keys").json()
            audit = client.get("/api/v1/audit", params={"limit": 10_000}).json()
            done = [e for e in audit if e["ok"]]
        return (
            [(b["bot_id"], b["paused"], b["params"]) for b in bots["bots"]],
            account["kill"],
            [(k["name"], k["active"]) for k in keys],
            [e["action"] for e in done],
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    made = Running(tmp_path_factory.mktemp("home"))
    before = made.state()
    try:
        yield made
        assert made.state() == before  # nothing a read key asked for changed anything
    finally:
        made.stop()


def test_the_api_answers_as_documented_and_never_fails(running: Running) -> None:
    schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    schema = schema.include(path_regex=r"^/api/v1/").exclude(path="/api/v1/events")
    failures: list[str] = []
    operations = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"X-API-Key": running.key}, checks=CHECKS)

        try:
            call()
        except Exception as exc:  # every operation is tried; all failures are reported
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:2000]}")
    assert operations >= 39
    assert not failures, "\n\n".join(failures)
