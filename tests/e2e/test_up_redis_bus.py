"""``stockyard up`` with ``bus.backend = "redis"``: the ``feed`` process alone holds the
market-data stream, and another process sees the node's orders, fills and positions over
Redis (``stockyard stream --bus redis --events``), as the hub's event stream does."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from typing import IO, TYPE_CHECKING

import httpx
import pytest
import redis

if TYPE_CHECKING:  # the fixture's type, from tests/e2e/conftest.py
    from conftest import SupervisedSystem

STOCKYARD = [sys.executable, "-m", "stockyard"]
# Four processes start one after another (a minute and more on a loaded machine).
pytestmark = pytest.mark.timeout(600)


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The lines of ``stream`` as they come (read on a thread: no wait blocks the test)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _events_until_fill(lines: queue.Queue[str], seconds: float) -> list[dict[str, object]]:
    """Every event line up to and including the first fill's position."""
    seen: list[dict[str, object]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        event = json.loads(line)
        seen.append(event)
        kinds = [e["topic"] for e in seen]
        if "fills" in kinds and "positions" in kinds[kinds.index("fills") :]:
            return seen
    raise AssertionError(f"no fill over Redis within {seconds:g} s; heard {seen[-5:]}")


def test_a_second_process_sees_the_nodes_fills_over_redis(
    redis_bus_system: SupervisedSystem, redis_url: str, redis_prefix: str
) -> None:
    system = redis_bus_system
    rows = {row["name"]: row for row in json.loads(system.cli("ps", "--json").stdout)}
    assert list(rows) == ["sandbox", "feed", "node@sandbox", "hub"]
    assert {row["state"] for row in rows.values()} == {"RUNNING"}
    listener = subprocess.Popen(
        [*STOCKYARD, "stream", "--bus", "redis", "--events"],
        env=system.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=system.home,
    )
    try:
        assert listener.stdout is not None
        seen = _events_until_fill(_lines(listener.stdout), 180.0)
    finally:
        listener.terminate()
        _out, err = listener.communicate(timeout=60)
    assert listener.returncode == 0, err
    assert f"prefix {redis_prefix}" in err
    fill = next(e for e in seen if e["topic"] == "fills")
    data = fill["data"]
    assert isinstance(data, dict)
    assert data["client_order_id"].startswith(("sma_cross", "mean_reversion"))
    assert float(data["price"]) > 0
    position = next(e for e in seen[seen.index(fill) :] if e["topic"] == "positions")
    assert position["subject"] == fill["subject"]
    # The listener's own consumer group is gone; the hub's stays (it reads every event).
    client = redis.Redis.from_url(redis_url)
    try:
        groups = {g["name"].decode() for g in client.xinfo_groups(f"{redis_prefix}stream:exec")}
    finally:
        client.close()
    assert "hub" in groups
    assert not any(g.startswith("stream-") for g in groups)
    _hub_streams_fills_from_redis(system)


def _hub_streams_fills_from_redis(system: SupervisedSystem) -> None:
    """The hub's ``/api/v1/events`` carries fills too: from Redis (the hub's group), not
    relayed from the node's socket."""
    key = (system.home / "run" / "admin.key").read_text().strip()
    url = f"{system.hub_url}/api/v1/events"
    headers = {"X-API-Key": key, "Last-Event-ID": "0"}
    with httpx.stream("GET", url, params={"topics": "fills"}, headers=headers, timeout=60) as got:
        deadline = time.monotonic() + 60
        for line in got.iter_lines():
            if line == "event: fills":
                return
            assert time.monotonic() < deadline, "the hub streamed no fill"
    raise AssertionError("the hub's event stream ended without a fill")
