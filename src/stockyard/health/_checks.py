"""The built-in health checks: what exists in every install. Later layers add theirs.

The service probes (Redis, database, disk, GPU) are the doctor's, shared from
``stockyard.obs._readiness``; here they are timed and turned into observations.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import psutil
import redis
import sqlalchemy

from stockyard.config import Settings
from stockyard.health._model import HealthCheck, HealthStatus, Observation
from stockyard.obs._logging import logging_stats
from stockyard.obs._readiness import (
    db_error_reason,
    disk_usage,
    probe_database,
    probe_engine,
    probe_gpus,
    probe_redis,
)
from stockyard.resilience import (
    BreakerRegistry,
    CircuitState,
    ErrorRegistry,
    Severity,
    default_breaker_registry,
    default_error_registry,
)

__all__ = ["Thresholds", "builtin_health_checks"]

_GIB = 1024**3


class Thresholds:
    """Where the built-in checks turn warn or fail (module constants, documented in
    docs/health.md; the alert rules carry the operator's own thresholds)."""

    DISK_WARN_BYTES = 1 * _GIB
    DISK_FAIL_BYTES = _GIB // 5
    CPU_WARN_PERCENT = 90.0
    MEMORY_WARN_PERCENT = 90.0
    MEMORY_FAIL_PERCENT = 97.0
    LOG_ERRORS_WARN_PER_MIN = 10.0
    RECENT_ERRORS_WINDOW = timedelta(minutes=5)


def _ms(begin: float) -> float:
    return round((time.perf_counter() - begin) * 1000, 3)


def process_check(started: float) -> Callable[[], Observation]:
    """The process is alive: its uptime in seconds, pid in the output."""

    def check() -> Observation:
        uptime = round(time.time() - started, 3)
        return Observation.passed(f"pid {os.getpid()}", value=uptime, unit="s")

    return check


def redis_check(url: str, where: str, *, timeout: float) -> Callable[[], Observation]:
    """Redis answers PING: latency in ms."""

    def check() -> Observation:
        begin = time.perf_counter()
        try:
            version = probe_redis(url, timeout=timeout)
        except redis.RedisError as exc:
            return Observation.failed(f"Redis at {where} unreachable: {exc}")
        return Observation.passed(f"Redis {version} at {where}", value=_ms(begin), unit="ms")

    return check


def database_check(url: str, *, timeout: float) -> Callable[[], Observation]:
    """The state database answers a query: latency in ms."""

    engine = probe_engine(url, timeout=timeout)  # made once; each probe connects anew

    def check() -> Observation:
        begin = time.perf_counter()
        try:
            version = probe_database(url, timeout=timeout, engine=engine)
        except sqlalchemy.exc.SQLAlchemyError as exc:
            return Observation.failed(f"database unreachable: {db_error_reason(exc)}")
        return Observation.passed(version, value=_ms(begin), unit="ms")

    return check


def broker_check(settings: Settings, *, timeout: float) -> Callable[[], Awaitable[Observation]]:
    """The broker at ``alpaca.base_url`` answers the account with the configured keys: ms.

    Keys refused (401, 403) fail: nothing could trade with them. Without keys only the
    answer is proved, and the output says so. When the base URL is the local sandbox and
    nothing listens there, the truth is "not running": warn, because this process does not
    trade on it (a node's own ``node@NAME:broker`` check probes the broker it trades on,
    and ``up`` and ``hub`` drop this one); an unreachable remote broker fails.
    """
    base_url = settings.alpaca.base_url.rstrip("/")
    sandbox = settings.alpaca.is_sandbox
    key, secret = settings.alpaca.key_id, settings.alpaca.secret_key
    headers = (
        {}
        if key is None or secret is None
        else {
            "APCA-API-KEY-ID": key.get_secret_value(),
            "APCA-API-SECRET-KEY": secret.get_secret_value(),
        }
    )

    # Loading the trust store takes most of a client's making: made once, for every probe.
    tls = ssl.create_default_context()

    async def check() -> Observation:
        begin = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=tls) as client:
                response = await client.get(f"{base_url}/v2/account", headers=headers)
        except httpx.ConnectError:
            if sandbox:
                return Observation.warned(f"sandbox not running: nothing listens at {base_url}")
            return Observation.failed(f"broker unreachable at {base_url}")
        except httpx.HTTPError as exc:
            return Observation.failed(f"broker at {base_url}: {type(exc).__name__} {exc}")
        return _answered(response.status_code, f"{base_url}/v2/account", _ms(begin), headers)

    return check


def _answered(code: int, url: str, latency: float, keys: dict[str, str]) -> Observation:
    text = f"HTTP {code} from {url}"
    if code in (401, 403):
        if keys:
            return Observation.failed(
                f"{text}: the broker refused the configured keys (authentication failed)",
                value=latency,
                unit="ms",
            )
        return Observation.passed(
            f"{text}: reachable; no keys configured to authenticate", value=latency, unit="ms"
        )
    if code >= 500 or code == 429:
        return Observation.warned(text, value=latency, unit="ms")
    if code >= 400:
        return Observation.failed(text, value=latency, unit="ms")
    return Observation.passed(f"{text}: account read", value=latency, unit="ms")


def disk_check(settings: Settings) -> Callable[[], Observation]:
    """Free bytes on the file system holding home."""

    def check() -> Observation:
        free = disk_usage(settings.home).free
        text = f"{free / _GIB:.1f} GiB free under {settings.home}"
        if free < Thresholds.DISK_FAIL_BYTES:
            return Observation.failed(text, value=free, unit="bytes")
        if free < Thresholds.DISK_WARN_BYTES:
            return Observation.warned(text, value=free, unit="bytes")
        return Observation.passed(text, value=free, unit="bytes")

    return check


def cpu_check() -> Callable[[], Observation]:
    """System CPU utilisation since the previous run, in percent."""
    psutil.cpu_percent(interval=None)  # the first reading only sets the baseline

    def check() -> Observation:
        percent = float(psutil.cpu_percent(interval=None))
        text = f"{percent:.1f}% of {psutil.cpu_count()} CPUs"
        if percent > Thresholds.CPU_WARN_PERCENT:
            return Observation.warned(text, value=percent, unit="percent")
        return Observation.passed(text, value=percent, unit="percent")

    return check


def memory_check() -> Callable[[], Observation]:
    """System memory in use, in percent; this process's resident size in the output."""
    process = psutil.Process()

    def check() -> Observation:
        memory = psutil.virtual_memory()
        rss = process.memory_info().rss
        text = f"{memory.percent:.1f}% used; this process {rss / 1024**2:.0f} MiB"
        status = HealthStatus.PASS
        if memory.percent > Thresholds.MEMORY_FAIL_PERCENT:
            status = HealthStatus.FAIL
        elif memory.percent > Thresholds.MEMORY_WARN_PERCENT:
            status = HealthStatus.WARN
        return Observation(status, float(memory.percent), "percent", text)

    return check


def gpu_check() -> Observation:
    """GPUs present: reported, never required."""
    try:
        gpus = probe_gpus(timeout=5.0)
    except (OSError, subprocess.SubprocessError) as exc:
        return Observation.warned(f"nvidia-smi present but failed: {exc}", value=0, unit="gpus")
    if not gpus:
        return Observation.passed("no GPU (not required)", value=0, unit="gpus")
    return Observation.passed("; ".join(gpus), value=len(gpus), unit="gpus")


def logging_check() -> Callable[[], Observation]:
    """Errors logged per minute since the previous run; queue depth in the output."""
    last: list[tuple[float, int]] = []

    def check() -> Observation:
        stats = logging_stats()
        now, errors = time.monotonic(), int(stats["errors"])
        previous = last[0] if last else (now, errors)
        last[:] = [(now, errors)]
        minutes = max((now - previous[0]) / 60, 1e-9)
        rate = round(max(errors - previous[1], 0) / minutes, 3) if now > previous[0] else 0.0
        text = f"{stats['total']} entries, {errors} errors, queue {stats['queue_depth']}"
        if rate > Thresholds.LOG_ERRORS_WARN_PER_MIN:
            return Observation.warned(text, value=rate, unit="errors/min")
        return Observation.passed(text, value=rate, unit="errors/min")

    return check


_BREAKER_STATUS = {
    CircuitState.CLOSED: HealthStatus.PASS,
    CircuitState.HALF_OPEN: HealthStatus.WARN,
    CircuitState.OPEN: HealthStatus.WARN,
}


def breakers_check(breakers: BreakerRegistry) -> Callable[[], list[Observation]]:
    """One observation per circuit breaker: closed passes, half-open and open warn."""

    def check() -> list[Observation]:
        found: list[Observation] = []
        for name in breakers.names():
            state = breakers.get(name).state
            found.append(
                Observation(
                    _BREAKER_STATUS[state], state.value, None, f"{name} {state.value}", name
                )
            )
        return found or [Observation.passed("no circuit breakers registered", value="none")]

    return check


def errors_check(errors: ErrorRegistry) -> Callable[[], Observation]:
    """Handled errors in the last five minutes; a critical one among them warns."""

    def check() -> Observation:
        horizon = datetime.now(UTC) - Thresholds.RECENT_ERRORS_WINDOW
        recent = [r for r in errors.recent() if r.at >= horizon]
        critical = sum(1 for r in recent if r.severity is Severity.CRITICAL)
        text = f"{len(recent)} errors in 5 min ({critical} critical), {errors.total} in all"
        if critical:
            return Observation.warned(text, value=len(recent), unit="errors")
        return Observation.passed(text, value=len(recent), unit="errors")

    return check


def builtin_health_checks(
    settings: Settings,
    *,
    errors: ErrorRegistry | None = None,
    breakers: BreakerRegistry | None = None,
    started: float | None = None,
) -> list[HealthCheck]:
    """The checks for what exists now; Redis only when configured, the GPU never required.

    ``started`` is the process start (epoch seconds; default: now).
    """
    timeout = settings.health.check_timeout
    probe_timeout = max(timeout * 0.8, 0.05)  # answer with the real reason before the runner
    checks = [
        HealthCheck("process", "uptime", process_check(started or time.time()), "system"),
        HealthCheck(
            "database",
            "responseTime",
            database_check(settings.database.sqlalchemy_url(), timeout=probe_timeout),
            "datastore",
        ),
        HealthCheck(
            "broker", "responseTime", broker_check(settings, timeout=probe_timeout), "http"
        ),
        HealthCheck("disk", "free", disk_check(settings), "system"),
        HealthCheck("cpu", "utilization", cpu_check(), "system"),
        HealthCheck("memory", "utilization", memory_check(), "system"),
        HealthCheck("gpu", "count", gpu_check, "system", required=False),
        HealthCheck("logging", "errorRate", logging_check(), "component"),
        HealthCheck(
            "breakers", "state", breakers_check(breakers or default_breaker_registry()), "component"
        ),
        HealthCheck(
            "errors", "recent", errors_check(errors or default_error_registry()), "component"
        ),
    ]
    url = settings.redis.connection_url()
    if url is not None:
        where = f"{settings.redis.host or 'url'}:{settings.redis.port}"
        checks.insert(
            1,
            HealthCheck(
                "redis", "responseTime", redis_check(url, where, timeout=probe_timeout), "datastore"
            ),
        )
    return checks
