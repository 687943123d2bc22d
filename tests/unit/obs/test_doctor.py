from __future__ import annotations

import json
import socket
from pathlib import Path

from stockyard.config import Settings, load_settings
from stockyard.obs import (
    CheckOutcome,
    CheckResult,
    CheckStatus,
    DoctorCheck,
    DoctorRegistry,
    DoctorReport,
    builtin_checks,
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(env: dict[str, str]) -> tuple[DoctorReport, dict[str, CheckOutcome]]:
    report = DoctorRegistry(builtin_checks()).run(load_settings(env=env))
    return report, {o.name: o for o in report.outcomes}


def test_a_fresh_install_in_sandbox_mode_is_ready(tmp_path: Path) -> None:
    report, outcomes = _run({"STOCKYARD_HOME": str(tmp_path)})
    assert report.ok, report.failed
    assert outcomes["redis"].status is CheckStatus.SKIP
    assert "sandbox mode" in outcomes["alpaca"].detail
    assert outcomes["gpu"].required is False


def test_redis_configured_but_stopped_fails_and_is_named(tmp_path: Path) -> None:
    env = {"STOCKYARD_HOME": str(tmp_path), "REDIS_HOST": "127.0.0.1"}
    env["REDIS_PORT"] = str(_closed_port())
    report, outcomes = _run(env)
    assert not report.ok
    assert [o.name for o in report.failed] == ["redis"]
    assert "unreachable" in outcomes["redis"].detail


def test_real_redis_and_postgres_pass_when_configured(
    tmp_path: Path, redis_url: str, postgres_url: str
) -> None:
    host_port = redis_url.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    env = {
        "STOCKYARD_HOME": str(tmp_path),
        "REDIS_HOST": host,
        "REDIS_PORT": port,
        "STOCKYARD_DATABASE__URL": postgres_url,
    }
    _, outcomes = _run(env)
    assert outcomes["redis"].status is CheckStatus.PASS
    assert outcomes["database"].status is CheckStatus.PASS
    assert "PostgreSQL" in outcomes["database"].detail


def test_postgres_unreachable_fails(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    _, outcomes = _run({"STOCKYARD_HOME": str(tmp_path), "STOCKYARD_DATABASE__URL": url})
    assert outcomes["database"].status is CheckStatus.FAIL


def test_alpaca_without_credentials_fails_unless_sandbox(tmp_path: Path) -> None:
    env = {"STOCKYARD_HOME": str(tmp_path), "APCA_API_BASE_URL": "https://paper-api.alpaca.markets"}
    assert _run(env)[1]["alpaca"].status is CheckStatus.FAIL
    env |= {"APCA_API_KEY_ID": "PKEXAMPLE", "APCA_API_SECRET_KEY": "example-secret"}
    assert _run(env)[1]["alpaca"].status is CheckStatus.PASS


def test_a_crashing_check_is_a_failed_check_and_the_report_is_written(tmp_path: Path) -> None:
    def broken(_settings: Settings) -> CheckResult:
        raise RuntimeError("probe exploded")

    registry = DoctorRegistry([DoctorCheck("broken", broken)])
    report = registry.run(load_settings(env={"STOCKYARD_HOME": str(tmp_path)}))
    assert not report.ok
    assert "probe exploded" in report.outcomes[0].detail
    path = report.write(tmp_path / "reports")
    assert path.name.startswith("integration_test_report_")
    assert json.loads(path.read_text())["failed"] == ["broken"]


def test_optional_checks_never_fail_the_report(tmp_path: Path) -> None:
    def absent(_settings: Settings) -> CheckResult:
        return CheckResult(CheckStatus.FAIL, "no GPU")

    registry = DoctorRegistry([DoctorCheck("gpu", absent, required=False)])
    assert registry.run(load_settings(env={"STOCKYARD_HOME": str(tmp_path)})).ok
