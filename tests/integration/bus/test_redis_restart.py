"""Redis stopped mid-stream, on a redis-server of this test's own (never the shared one).

What is claimed, precisely: while Redis is down, in-process subscribers keep receiving;
when it is back on the same port, every RedisBus reconnects by itself; execution events
published before, during and after the outage all reach the Streams consumer exactly once
and in order (the server runs with ``--appendonly yes --appendfsync always``, so the stream
and its consumer group survive the kill; events published during the outage wait in the
publisher's never-drop outbound queue); and market data flows between processes again.
Market data published while Redis is down is not promised to other processes.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client import CollectorRegistry

from stockyard.bus import RedisBus

pytestmark = pytest.mark.redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.dir = directory
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:  # poll until it answers
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    assert self.proc.poll() is None, "our redis-server exited"
                    assert time.monotonic() < deadline, "our redis-server did not start"
                    time.sleep(0.01)
        finally:
            client.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


async def until(predicate: Callable[[], bool], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def fast_backoff(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.1))


def test_redis_stopped_mid_stream_loses_no_execution_event(own_redis: OwnRedis) -> None:
    def make(**kw: object) -> RedisBus:
        return RedisBus(
            url=own_redis.url,
            prefix="r:",
            registry=CollectorRegistry(),
            reconnect_sleep=fast_backoff,
            **kw,
        )  # type: ignore[arg-type]

    async def scenario() -> dict[str, object]:
        node, recorder = make(name="node"), make(name="rec", group="recorder", consumer="r1")
        local_md: list[int] = []
        node.subscribe("md.trade.*", lambda t, m: local_md.append(m))
        fills: list[int] = []
        remote_md: list[int] = []
        recorder.subscribe("exec.fill", lambda t, m: fills.append(m))
        recorder.subscribe("md.trade.*", lambda t, m: remote_md.append(m))
        await node.start()
        await recorder.start()
        await recorder.ready()
        for n in range(10):
            node.publish("md.trade.AAPL", n)
            node.publish("exec.fill", n)
        await until(lambda: len(fills) == 10 and len(remote_md) == 10)

        await asyncio.to_thread(own_redis.kill)
        for n in range(10, 20):
            node.publish("md.trade.AAPL", n)  # local subscribers keep receiving
            node.publish("exec.fill", n)  # waits in the outbound queue
            await asyncio.sleep(0.01)
        await until(lambda: not node.connected and not recorder.connected)
        local_during = list(local_md)

        await asyncio.to_thread(own_redis.start)
        await until(lambda: node.connected and recorder.connected)
        await until(lambda: len(fills) == 20)
        await recorder.ready()
        for n in range(20, 30):
            node.publish("md.trade.AAPL", n)
            node.publish("exec.fill", n)
        await until(lambda: len(fills) == 30 and bool(remote_md) and remote_md[-1] == 29)
        result = {
            "local_during": local_during,
            "fills": list(fills),
            "remote_md": list(remote_md),
            "reconnects": (node.metrics.reconnects, recorder.metrics.reconnects),
        }
        await node.close()
        await recorder.close()
        return result

    result = asyncio.run(scenario())
    assert result["local_during"] == list(range(20))
    assert result["fills"] == list(range(30))
    assert result["remote_md"][:10] == list(range(10))  # type: ignore[index]
    assert result["remote_md"][-10:] == list(range(20, 30))  # type: ignore[index]
    assert all(n >= 1 for n in result["reconnects"])  # type: ignore[attr-defined]
