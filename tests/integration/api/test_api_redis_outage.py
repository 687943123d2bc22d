"""Redis stops while it is required: the check fails within one interval, /health answers
503, an alert is raised (stored, posted to a webhook); Redis comes back: the alert resolves.

The test runs a redis-server of its own on a free port; the machine's shared Redis is never
touched.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import httpx
import pytest
import redis
from prometheus_client import CollectorRegistry

from stockyard.api import HealthServer, health_app
from stockyard.config import load_settings
from stockyard.health import HealthService

if TYPE_CHECKING:  # the fixture's type; conftest is not importable at run time
    from tests.conftest import WebhookReceiver

INTERVAL = 0.2
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(what: str, probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll ``probe`` until it returns something, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class OwnRedis:
    """A redis-server of this test's own, on a fixed port, that can be killed and restarted."""

    def __init__(self) -> None:
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            _until("our redis-server to answer", lambda: self._ping(client))
        finally:
            client.close()

    @staticmethod
    def _ping(client: redis.Redis) -> bool | None:
        try:
            return bool(client.ping()) or None
        except redis.ConnectionError:
            return None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.kill()


def _status(client: httpx.Client) -> tuple[int, str]:
    body = client.get("/health/detailed").json()
    (entry,) = body["checks"]["redis:responseTime"]
    return client.get("/health").status_code, entry["status"]


def _redis_alerts(client: httpx.Client, state: str) -> list[dict[str, object]] | None:
    alerts = client.get("/health/alerts", params={"state": state}).json()["alerts"]
    found = [a for a in alerts if a["subject"] == "redis:responseTime"]
    return found or None


def _webhook_event(webhook: WebhookReceiver, kind: str) -> dict[str, object]:
    while True:
        body = webhook.next(timeout=10)
        alert = body["alert"]
        if (
            body["event"] == kind
            and isinstance(alert, dict)
            and alert["subject"] == "redis:responseTime"
        ):
            return alert


def test_redis_down_fails_its_check_raises_an_alert_and_it_resolves_when_back(
    own_redis: OwnRedis, webhook: WebhookReceiver
) -> None:
    settings = load_settings(
        overrides={
            "redis.host": "127.0.0.1",
            "redis.port": own_redis.port,
            "health.check_interval": INTERVAL,
            "health.check_timeout": 1.0,
            "alerts.webhook_url": webhook.url,
        }
    )
    app = health_app(settings, metrics=CollectorRegistry())
    service: HealthService = app.state.health
    with HealthServer(app, port=0) as server, httpx.Client(base_url=server.url) as client:
        assert _status(client) == (200, "pass")

        assert service.report is not None
        cycle_at_kill = service.report.cycle
        own_redis.kill()
        _until("the redis check to fail", lambda: _status(client)[1] == "fail" or None)
        report = service.report
        assert report is not None
        # The cycle running when Redis died may have pinged it just before; the next fails.
        assert report.cycle <= cycle_at_kill + 2
        assert _status(client) == (503, "fail")
        assert client.get("/readyz").status_code == 503

        (alert,) = _until("a firing alert", lambda: _redis_alerts(client, "firing"))
        assert alert["rule"] == "required-check-failing"
        assert alert["severity"] == "critical"
        posted = _webhook_event(webhook, "raised")
        assert posted["id"] == alert["id"]

        own_redis.start()  # same port
        _until("the redis check to pass", lambda: _status(client)[1] == "pass" or None)
        (resolved,) = _until("the alert to resolve", lambda: _redis_alerts(client, "resolved"))
        assert resolved["id"] == alert["id"]
        assert resolved["resolved_at"] is not None
        assert _webhook_event(webhook, "resolved")["id"] == alert["id"]
        assert client.get("/health").status_code == 200
