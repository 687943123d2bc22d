"""The built-in doctor checks: the platform itself, its settings and the services it uses."""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.requirements import InvalidRequirement, Requirement

from stockyard.config import Settings
from stockyard.obs._doctor import CheckResult, CheckStatus, DoctorCheck

if TYPE_CHECKING:
    import sqlalchemy.exc

# redis and sqlalchemy are imported by the probes that use them, not here: every process
# imports this module (through ``stockyard.obs``), and a process on the in-process bus never
# needs redis (``stockyard --version`` needs neither).

__all__ = [
    "DiskUsage",
    "builtin_checks",
    "db_error_reason",
    "disk_usage",
    "probe_database",
    "probe_gpus",
    "probe_redis",
]

_GIB = 1024**3


class DiskUsage(NamedTuple):
    """Bytes on one file system."""

    total: int
    free: int


_MIN_PYTHON = (3, 11)
_SERVICE_TIMEOUT_S = 3.0


def check_python(_settings: Settings) -> CheckResult:
    version = platform.python_version()
    observed = {"version": version, "executable": sys.executable}
    if sys.version_info[:2] < _MIN_PYTHON:
        return CheckResult(CheckStatus.FAIL, f"Python {version}; 3.11 or newer needed", observed)
    return CheckResult(CheckStatus.PASS, f"Python {version}", observed)


def check_dependencies(_settings: Settings) -> CheckResult:
    try:
        requirements = importlib.metadata.requires("stockyard") or []
    except importlib.metadata.PackageNotFoundError:
        return CheckResult(CheckStatus.FAIL, "stockyard is not installed (pip install -e .)")
    problems: list[str] = []
    versions: dict[str, str] = {}
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an optional extra (dev tools) is not required to run
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} missing")
            continue
        versions[requirement.name] = installed
        if requirement.specifier and not requirement.specifier.contains(
            installed, prereleases=True
        ):
            problems.append(
                f"{requirement.name} {installed} does not satisfy {requirement.specifier}"
            )
    if problems:
        return CheckResult(CheckStatus.FAIL, "; ".join(problems), {"installed": versions})
    return CheckResult(
        CheckStatus.PASS, f"{len(versions)} dependencies satisfied", {"installed": versions}
    )


def check_settings(settings: Settings) -> CheckResult:
    # Reaching here means the settings validated; report the essentials.
    return CheckResult(
        CheckStatus.PASS,
        f"settings valid (home {settings.home})",
        {"home": str(settings.home), "bus": settings.bus.backend},
    )


def _probe_writable(directory: Path) -> str | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".doctor-{uuid.uuid4().hex}"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return f"{directory} is not writable: {exc.strerror or exc}"
    return None


def check_log_dir(settings: Settings) -> CheckResult:
    directory = settings.log.dir
    assert directory is not None  # filled from home by Settings
    problem = _probe_writable(directory)
    if problem:
        return CheckResult(CheckStatus.FAIL, problem, {"dir": str(directory)})
    return CheckResult(CheckStatus.PASS, f"{directory} writable", {"dir": str(directory)})


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_usage(path: Path) -> DiskUsage:
    """Total and free bytes of the file system holding ``path`` (or its nearest ancestor)."""
    usage = shutil.disk_usage(_existing(path))
    return DiskUsage(total=usage.total, free=usage.free)


def check_disk(settings: Settings) -> CheckResult:
    usage = disk_usage(settings.home)
    free_gib = usage.free / _GIB
    observed = {"free_bytes": usage.free, "total_bytes": usage.total}
    detail = f"{free_gib:.1f} GiB free under {settings.home}"
    if free_gib < 0.2:
        return CheckResult(CheckStatus.FAIL, detail, observed)
    if free_gib < 1:
        return CheckResult(CheckStatus.WARN, detail, observed)
    return CheckResult(CheckStatus.PASS, detail, observed)


def probe_redis(url: str, *, timeout: float = _SERVICE_TIMEOUT_S) -> str:
    """Ping Redis at ``url`` and return its version; raises ``redis.RedisError``."""
    import redis  # noqa: PLC0415

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
        return str(client.info("server").get("redis_version", "?"))
    finally:
        client.close()


def check_redis(settings: Settings) -> CheckResult:
    url = settings.redis.connection_url()
    if url is None:
        return CheckResult(CheckStatus.SKIP, "Redis not configured (set REDIS_HOST to use it)")
    where = f"{settings.redis.host or 'url'}:{settings.redis.port}"
    import redis  # noqa: PLC0415

    try:
        version = probe_redis(url)
    except redis.RedisError as exc:
        return CheckResult(CheckStatus.FAIL, f"Redis at {where} unreachable: {exc}")
    return CheckResult(CheckStatus.PASS, f"Redis {version} at {where}", {"version": version})


def probe_engine(url: str, *, timeout: float = _SERVICE_TIMEOUT_S) -> sqlalchemy.Engine:
    """An engine for :func:`probe_database` that opens a new connection for each probe."""
    import sqlalchemy  # noqa: PLC0415
    from sqlalchemy.pool import NullPool  # noqa: PLC0415

    postgres = url.startswith("postgresql")
    connect_args = {"connect_timeout": max(1, int(timeout))} if postgres else {"timeout": timeout}
    return sqlalchemy.create_engine(url, connect_args=connect_args, poolclass=NullPool)


def probe_database(
    url: str, *, timeout: float = _SERVICE_TIMEOUT_S, engine: sqlalchemy.Engine | None = None
) -> str:
    """Connect to the SQLAlchemy ``url`` (through ``engine`` when given: a check run every
    cycle makes it once, see :func:`probe_engine`) and return the server's name and version;
    raises ``sqlalchemy.exc.SQLAlchemyError`` (first line of the reason: ``db_error_reason``).
    """
    import sqlalchemy  # noqa: PLC0415

    postgres = url.startswith("postgresql")
    own = engine is None
    if engine is None:
        engine = probe_engine(url, timeout=timeout)
    try:
        with engine.connect() as connection:
            if postgres:
                version = connection.execute(sqlalchemy.text("SHOW server_version")).scalar_one()
                return f"PostgreSQL {version}"
            if engine.dialect.name == "sqlite":
                query = sqlalchemy.text("select sqlite_version()")
                version = connection.execute(query).scalar_one()
                return f"SQLite {version}"
            connection.execute(sqlalchemy.text("select 1"))
            return engine.dialect.name
    finally:
        if own:
            engine.dispose()


def db_error_reason(exc: sqlalchemy.exc.SQLAlchemyError) -> str:
    """The first line of the driver's reason for ``exc``."""
    orig = getattr(exc, "orig", None)
    reason = str(orig) if orig is not None else str(exc)
    return reason.splitlines()[0] if reason else type(exc).__name__


def check_database(settings: Settings) -> CheckResult:
    url = settings.database.sqlalchemy_url()
    if not settings.database.is_postgres:
        path = Path(url.removeprefix("sqlite:///"))
        problem = _probe_writable(path.parent) if url.startswith("sqlite:///") else None
        if problem:
            return CheckResult(CheckStatus.FAIL, problem)
        return CheckResult(CheckStatus.PASS, f"SQLite at {path}", {"backend": "sqlite"})
    import sqlalchemy  # noqa: PLC0415

    try:
        version = probe_database(url)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        return CheckResult(CheckStatus.FAIL, f"PostgreSQL unreachable: {db_error_reason(exc)}")
    host = sqlalchemy.make_url(url).host or "local socket"
    return CheckResult(CheckStatus.PASS, f"{version} at {host}", {"backend": "postgresql"})


def probe_gpus(*, timeout: float = 10.0) -> list[str] | None:
    """``name, memory`` of each NVIDIA GPU; None when there is no ``nvidia-smi``.

    Raises ``OSError`` or ``subprocess.SubprocessError`` when ``nvidia-smi`` fails.
    """
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    out = subprocess.run(
        [smi, "--query-gpu=name,memory.total", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout.strip()
    return [line.strip() for line in out.splitlines() if line.strip()]


def check_gpu(_settings: Settings) -> CheckResult:
    try:
        gpus = probe_gpus()
    except (OSError, subprocess.SubprocessError) as exc:
        return CheckResult(CheckStatus.WARN, f"nvidia-smi present but failed: {exc}")
    if gpus is None:
        return CheckResult(
            CheckStatus.PASS,
            "no GPU found (not required; ML bots train LightGBM and scikit-learn on the CPU)",
        )
    return CheckResult(
        CheckStatus.PASS,
        f"{len(gpus)} GPU(s): {'; '.join(gpus)} (ML bots' LightGBM and scikit-learn models "
        "use the CPU)",
        {"gpus": gpus},
    )


def check_alpaca(settings: Settings) -> CheckResult:
    alpaca = settings.alpaca
    observed = {"base_url": alpaca.base_url, "sandbox": alpaca.is_sandbox}
    if alpaca.is_sandbox:
        return CheckResult(
            CheckStatus.PASS, f"sandbox mode: local exchange at {alpaca.base_url}", observed
        )
    if alpaca.key_id and alpaca.secret_key:
        mode = "LIVE" if alpaca.is_live else "paper"
        return CheckResult(CheckStatus.PASS, f"Alpaca {mode} credentials present", observed)
    return CheckResult(
        CheckStatus.FAIL,
        f"no Alpaca credentials for {alpaca.base_url}: set APCA_API_KEY_ID and APCA_API_SECRET_KEY",
        observed,
    )


def builtin_checks() -> list[DoctorCheck]:
    """The checks every install runs; later layers add theirs to the registry."""
    return [
        DoctorCheck("python", check_python, description="Python 3.11+"),
        DoctorCheck("dependencies", check_dependencies, description="installed packages"),
        DoctorCheck("settings", check_settings, description="settings valid"),
        DoctorCheck("log_dir", check_log_dir, description="log directory writable"),
        DoctorCheck("disk", check_disk, description="free disk under home"),
        DoctorCheck("redis", check_redis, description="Redis reachable when configured"),
        DoctorCheck("database", check_database, description="state database reachable"),
        DoctorCheck("gpu", check_gpu, required=False, description="GPU (reported only)"),
        DoctorCheck("alpaca", check_alpaca, description="Alpaca credentials or sandbox mode"),
    ]
