from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stockyard.config import Settings, load_settings
from stockyard.health import (
    CheckRunner,
    HealthRegistry,
    HealthReport,
    HealthStatus,
    builtin_health_checks,
)
from stockyard.resilience import BreakerRegistry, CircuitBreaker, ErrorRegistry, NetworkError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings(env={"STOCKYARD_HOME": str(tmp_path), **env})


def _run(settings: Settings, **registries: object) -> HealthReport:
    checks = builtin_health_checks(settings, **registries)  # type: ignore[arg-type]
    return asyncio.run(CheckRunner(HealthRegistry(checks), timeout=5).run_once())


@pytest.fixture
def answering_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)  # like Alpaca without credentials
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_fresh_install_reports_every_builtin_check_and_no_redis(tmp_path: Path) -> None:
    report = _run(_settings(tmp_path), errors=ErrorRegistry(), breakers=BreakerRegistry())
    assert set(report.checks) == {
        "process:uptime",
        "database:responseTime",
        "broker:responseTime",
        "disk:free",
        "cpu:utilization",
        "memory:utilization",
        "gpu:count",
        "logging:errorRate",
        "breakers:state",
        "errors:recent",
    }
    assert report.checks["gpu:count"].required is False
    assert report.checks["process:uptime"].observations[0].unit == "s"
    assert report.checks["disk:free"].observations[0].unit == "bytes"


def test_the_database_check_times_a_real_query(tmp_path: Path) -> None:
    tmp_path.joinpath("state.db").touch()
    report = _run(_settings(tmp_path))
    (observation,) = report.checks["database:responseTime"].observations
    assert observation.status is HealthStatus.PASS
    assert observation.output.startswith("SQLite ")
    assert observation.unit == "ms"


def test_redis_configured_but_down_fails_and_says_where(tmp_path: Path) -> None:
    port = _closed_port()
    report = _run(_settings(tmp_path, REDIS_HOST="127.0.0.1", REDIS_PORT=str(port)))
    (observation,) = report.checks["redis:responseTime"].observations
    assert observation.status is HealthStatus.FAIL
    assert f"127.0.0.1:{port} unreachable" in observation.output


def test_real_redis_answers_with_its_latency(tmp_path: Path, redis_url: str) -> None:
    host, port = redis_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    report = _run(_settings(tmp_path, REDIS_HOST=host, REDIS_PORT=port))
    (observation,) = report.checks["redis:responseTime"].observations
    assert observation.status is HealthStatus.PASS
    assert isinstance(observation.value, float)


def test_a_sandbox_nobody_runs_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    report = _run(_settings(tmp_path, APCA_API_BASE_URL=url))
    (observation,) = report.checks["broker:responseTime"].observations
    assert observation.status is HealthStatus.WARN
    assert observation.output == f"sandbox not running: nothing listens at {url}"


def test_an_unreachable_remote_broker_fails(tmp_path: Path) -> None:
    url = f"http://127.0.0.2:{_closed_port()}"  # loopback, but not "the local sandbox"
    report = _run(_settings(tmp_path, APCA_API_BASE_URL=url))
    assert report.checks["broker:responseTime"].status is HealthStatus.FAIL


def test_without_keys_a_401_only_proves_the_broker_answers_and_says_so(
    tmp_path: Path, answering_server: str
) -> None:
    report = _run(_settings(tmp_path, APCA_API_BASE_URL=answering_server))
    (observation,) = report.checks["broker:responseTime"].observations
    assert observation.status is HealthStatus.PASS
    assert observation.output == (
        f"HTTP 401 from {answering_server}/v2/account: reachable; no keys configured to "
        "authenticate"
    )


def test_keys_the_broker_refuses_fail_as_an_authentication_failure(
    tmp_path: Path, answering_server: str
) -> None:
    settings = _settings(
        tmp_path,
        APCA_API_BASE_URL=answering_server,
        APCA_API_KEY_ID="WRONG",
        APCA_API_SECRET_KEY="not-the-secret",
    )
    report = _run(settings)
    (observation,) = report.checks["broker:responseTime"].observations
    assert observation.status is HealthStatus.FAIL
    assert "refused the configured keys (authentication failed)" in observation.output
    assert "not-the-secret" not in observation.output


def test_an_open_breaker_warns_by_name(tmp_path: Path) -> None:
    breakers = BreakerRegistry()
    breaker = CircuitBreaker("alpaca", failure_threshold=1, registry=breakers)
    CircuitBreaker("s3", registry=breakers)
    with pytest.raises(NetworkError), breaker:
        raise NetworkError("down")
    report = _run(_settings(tmp_path), breakers=breakers)
    states = {o.component_id: o for o in report.checks["breakers:state"].observations}
    assert states["alpaca"].status is HealthStatus.WARN
    assert states["alpaca"].value == "open"
    assert states["s3"].status is HealthStatus.PASS


def test_a_recent_critical_error_warns(tmp_path: Path) -> None:
    errors = ErrorRegistry()
    errors.record(MemoryError("out of memory"), component="system")
    report = _run(_settings(tmp_path), errors=errors)
    (observation,) = report.checks["errors:recent"].observations
    assert observation.value == 1
    assert observation.status is HealthStatus.WARN
    assert "(1 critical)" in observation.output


def test_recent_ordinary_errors_pass_and_are_counted(tmp_path: Path) -> None:
    errors = ErrorRegistry()
    errors.record(NetworkError("reset"), component="data_pipeline")
    errors.record(NetworkError("reset"), component="data_pipeline")
    report = _run(_settings(tmp_path), errors=errors)
    (observation,) = report.checks["errors:recent"].observations
    assert (observation.status, observation.value) == (HealthStatus.PASS, 2)
