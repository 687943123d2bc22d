"""``stockyard bench health``: a full scan of every check apart from serving the cached
report, /health/detailed latency and /health requests per second, on the checks of
``up --single-process`` (the built-in ones and a trading node's on a sandbox).

Full scan: every registered check and the node's run once, concurrently, each under
its timeout (what a cycle of the background task does before it publishes), timed end to
end. Cached: the report the last cycle encoded, served over HTTP (sequential GETs over one
keep-alive connection on loopback). Throughput: wrk when installed, else a small asyncio
load generator in a separate process (the figures say which).
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from stockyard.api import HealthServer, health_app
from stockyard.bus import InProcessBus
from stockyard.config import Settings, load_settings
from stockyard.engine import NodeHealth, NodeThread, build_node
from stockyard.health import HealthService
from stockyard.sandbox import SandboxConfig, SandboxServer
from stockyard.strategy import create_strategy

__all__ = ["run_health_benchmark"]

_KEY, _SECRET = "BENCHHEALTH", "bench-health-secret"

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


async def _scans(service: HealthService, *, scans: int) -> list[float]:
    await service.run_once()  # warm up: first connections, the CPU baseline
    timings: list[float] = []
    for _ in range(scans):
        began = time.perf_counter()
        await service.run_once()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


@contextmanager
def _system(settings: Settings) -> Iterator[HealthServer]:
    """The health API of ``up --single-process``: the built-in checks and a trading node
    (``sma_cross`` on the sandbox, replaying synthetic bars at speed 60) as ``node@sandbox``."""
    config = SandboxConfig(key_id=_KEY, secret_key=_SECRET, port=0, speed=60.0)
    sandbox = SandboxServer(config).start()
    stack = ExitStack()
    stack.callback(sandbox.stop)
    with stack:
        alpaca = settings.alpaca.model_copy(
            update={"key_id": SecretStr(_KEY), "secret_key": SecretStr(_SECRET)}
        )
        bot = create_strategy("sma_cross", symbols=["AAPL"], params={"fast": 3, "slow": 8})
        node = build_node(
            settings.model_copy(update={"alpaca": alpaca}),
            strategies=[bot],
            broker="sandbox",
            bus=InProcessBus(name="node", registry=CollectorRegistry()),
            sandbox_url=sandbox.base_url,
        )
        thread = NodeThread(node).start()
        stack.callback(thread.stop)
        assert thread.loop is not None  # set by start()
        server = HealthServer(health_app(settings, metrics=CollectorRegistry()), port=0)
        server.service.registry.remove("broker:responseTime")  # as `up` does: the node's
        timeout = settings.health.check_timeout
        server.service.add_source(
            NodeHealth(node, account="sandbox", loop=thread.loop, timeout=timeout)
        )
        server.start()
        stack.callback(server.stop)
        yield server


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
    with _system(settings) as server:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(200):  # warm up
                client.get("/health/detailed")
            timings: list[float] = []
            for _ in range(requests):
                began = time.perf_counter()
                response = client.get("/health/detailed")
                timings.append((time.perf_counter() - began) * 1000)
            body = response.json()
        scan = asyncio.run(_scans(server.service, scans=scans))
        use_wrk = tool == "wrk" or (tool == "auto" and shutil.which("wrk") is not None)
        load = _wrk if use_wrk else _python_load
        rps, non_2xx, used = load(f"{server.url}/health", seconds=seconds, connections=connections)
    return {
        "full_scan_p50_ms": round(statistics.median(scan), 3),
        "full_scan_p99_ms": round(_percentile(scan, 0.99), 3),
        "full_scan_checks": len(body.get("checks", {})),
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
