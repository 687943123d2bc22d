"""``stockyard bench health``: a full scan of every check apart from serving the cached
report, /health/detailed latency and /health requests per second.

Full scan: every registered check run once, concurrently, each under its timeout (what a
cycle of the background task does before it publishes), timed end to end. Cached: the
report the last cycle encoded, served over HTTP (sequential GETs over one keep-alive
connection on loopback, every built-in check registered). Throughput: wrk when installed,
else a small asyncio load generator in a separate process (the figures say which).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from stockyard.api import HealthServer, health_app
from stockyard.config import load_settings
from stockyard.health import CheckRunner, HealthRegistry

__all__ = ["run_health_benchmark"]

# The fallback load generator: keep-alive HTTP/1.1 over raw asyncio streams, one process.
# Not httpx: its per-request overhead would measure the client, not the server.
_LOAD_SCRIPT = """
import asyncio, sys, time
from urllib.parse import urlsplit

async def worker(host, port, path, end, counts):
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n".encode()
    while time.perf_counter() < end:
        writer.write(request)
        head = await reader.readuntil(b"\\r\\n\\r\\n")
        length = 0
        for line in head.split(b"\\r\\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        counts[0 if head.startswith(b"HTTP/1.1 2") else 1] += 1
    writer.close()

async def main(url, seconds, connections):
    parts = urlsplit(url)
    counts = [0, 0]
    began = time.perf_counter()
    end = began + seconds
    await asyncio.gather(*(worker(parts.hostname, parts.port, parts.path, end, counts)
                           for _ in range(connections)))
    print(sum(counts) / (time.perf_counter() - began), counts[1])

asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wrk(url: str, *, seconds: float, connections: int) -> tuple[float, int, str]:
    wrk = shutil.which("wrk")
    assert wrk is not None
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if rate is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return float(rate.group(1)), int(bad.group(1)) if bad else 0, "wrk -t1"


def _python_load(url: str, *, seconds: float, connections: int) -> tuple[float, int, str]:
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, url, str(seconds), str(connections)],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    rate, bad = out.strip().splitlines()[-1].split()
    return float(rate), int(bad), "asyncio keep-alive load generator (1 process)"


async def _scans(registry: HealthRegistry, *, check_timeout: float, scans: int) -> list[float]:
    runner = CheckRunner(registry, timeout=check_timeout)
    await runner.run_once()  # warm up: first connections, the CPU baseline
    timings: list[float] = []
    for _ in range(scans):
        began = time.perf_counter()
        await runner.run_once()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def run_health_benchmark(
    *,
    home: Path | None = None,
    requests: int = 2000,
    seconds: float = 5.0,
    connections: int = 32,
    tool: str = "auto",
    scans: int = 200,
) -> dict[str, object]:
    """Measure a full scan of every check p50/p99 (ms, ``scans`` of them), the cached report
    on ``/health/detailed`` p50/p99 (ms) and ``/health`` requests/s on loopback.

    ``tool`` is ``wrk``, ``python`` or ``auto`` (wrk when installed).
    """
    home = home or Path(tempfile.mkdtemp(prefix="stockyard-bench-health-"))
    settings = load_settings(overrides={"home": str(home)})
    app = health_app(settings, metrics=CollectorRegistry())
    server = HealthServer(app, host="127.0.0.1", port=0)
    server.start()
    try:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(200):  # warm up
                client.get("/health/detailed")
            timings: list[float] = []
            for _ in range(requests):
                began = time.perf_counter()
                response = client.get("/health/detailed")
                timings.append((time.perf_counter() - began) * 1000)
            body = response.json()
        registry = server.service.registry
        scan = asyncio.run(
            _scans(registry, check_timeout=settings.health.check_timeout, scans=scans)
        )
        use_wrk = tool == "wrk" or (tool == "auto" and shutil.which("wrk") is not None)
        load = _wrk if use_wrk else _python_load
        rps, non_2xx, used = load(f"{server.url}/health", seconds=seconds, connections=connections)
    finally:
        server.stop()
    return {
        "full_scan_p50_ms": round(statistics.median(scan), 3),
        "full_scan_p99_ms": round(_percentile(scan, 0.99), 3),
        "full_scan_checks": len(registry),
        "scans": scans,
        "cached_p50_ms": round(statistics.median(timings), 3),
        "cached_p99_ms": round(_percentile(timings, 0.99), 3),
        "detailed_p50_ms": round(statistics.median(timings), 3),
        "detailed_p99_ms": round(_percentile(timings, 0.99), 3),
        "health_rps": round(rps, 1),
        "health_non_2xx": non_2xx,
        "load_tool": used,
        "connections": connections,
        "seconds": seconds,
        "detailed_requests": requests,
        "checks": len(body.get("checks", {})),
        "status": body.get("status"),
    }
