"""``stockyard bench bus``: latency from publish to every subscriber, and throughput."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Literal

from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus, RedisBus
from stockyard.core import Trade

__all__ = ["run_bus_benchmark"]

_SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AMD", "NFLX", "INTC")


def _pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def _trade(symbol: str, seq: int) -> Trade:
    return Trade(symbol, datetime(2024, 1, 2, 15, 0, tzinfo=UTC), 100.0 + seq % 7, 10.0, seq)


def _inproc(subscribers: int, messages: int) -> dict[str, object]:
    bus = InProcessBus(registry=CollectorRegistry())
    box: list[object] = [None]

    def handler(topic: str, message: object) -> None:
        box[0] = message  # the least a real subscriber does: keep the value

    for i in range(subscribers):  # every subscriber gets every message
        bus.subscribe("md.trade.*" if i % 2 else "md.>", handler)
    topics = [f"md.trade.{s}" for s in _SYMBOLS]
    msgs = [_trade(s, i) for i, s in enumerate(_SYMBOLS)]
    clock, publish, n = time.perf_counter_ns, bus.publish, len(topics)
    for i in range(2000):  # warm the route cache
        publish(topics[i % n], msgs[i % n])
    latencies = []
    for i in range(messages):
        t0 = clock()
        publish(topics[i % n], msgs[i % n])
        latencies.append(clock() - t0)
    delivered_before = sum(c.delivered for c in bus.metrics.families.values())
    t0 = clock()
    for i in range(messages):
        publish(topics[i % n], msgs[i % n])
    elapsed = (clock() - t0) / 1e9
    delivered = sum(c.delivered for c in bus.metrics.families.values()) - delivered_before
    return {
        "backend": "inproc",
        "subscribers": subscribers,
        "messages": messages,
        "p50_us": round(_pct(latencies, 0.50), 3),
        "p99_us": round(_pct(latencies, 0.99), 3),
        "deliveries_per_s": round(delivered / elapsed),
        "published_per_s": round(messages / elapsed),
        "note": "latency = publish call until the last subscriber has run",
    }


def subscriber_process() -> None:
    """Entry point of one subscriber process: ``URL PREFIX LOCAL_SUBS EXPECTED`` in argv;
    prints ``ready``, then one JSON object ``{seq: receive monotonic ns}``."""
    url, prefix, local_subs, expected = sys.argv[1:5]
    asyncio.run(
        _subscriber(url=url, prefix=prefix, local_subs=int(local_subs), expected=int(expected))
    )


async def _subscriber(*, url: str, prefix: str, local_subs: int, expected: int) -> None:
    received: dict[int, int] = {}
    counts = [0]
    clock = time.monotonic_ns
    done = asyncio.Event()

    def first(topic: str, message: Trade) -> None:
        received[message.id] = clock()  # type: ignore[index]
        if len(received) >= expected:
            done.set()

    def other(topic: str, message: object) -> None:
        counts[0] += 1

    bus = RedisBus(url=url, prefix=prefix, registry=CollectorRegistry())
    bus.subscribe("md.trade.>", first)
    for _ in range(local_subs - 1):
        bus.subscribe("md.trade.>", other)
    await bus.start()
    await bus.ready()
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 120)  # on a timeout, the result shows what was lost
    await bus.close()
    print(json.dumps(received), flush=True)


# Subprocesses rather than multiprocessing: `python -m stockyard` has no __main__ guard,
# and a spawned child would run the command line again.
_CHILD = "from stockyard.bench._bus import subscriber_process; subscriber_process()"


def _spawn(
    *, url: str, prefix: str, per: int, total: int, processes: int
) -> list[subprocess.Popen[str]]:
    argv = [sys.executable, "-c", _CHILD, url, prefix, str(per), str(total)]
    return [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(processes)]


async def _redis(
    *,
    url: str,
    prefix: str,
    procs: list[subprocess.Popen[str]],
    per: int,
    messages: int,
    latency_messages: int,
) -> dict[str, object]:
    total = latency_messages + messages
    for p in procs:
        assert p.stdout is not None
        line = await asyncio.to_thread(p.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"a subscriber process failed to start (exit {p.wait()})")
    bus = RedisBus(url=url, prefix=prefix, registry=CollectorRegistry())
    await bus.start()
    sent: dict[int, int] = {}
    clock = time.monotonic_ns
    for seq in range(latency_messages):  # paced: one message every 200 µs (5,000/s)
        sent[seq] = clock()
        bus.publish(f"md.trade.{_SYMBOLS[seq % len(_SYMBOLS)]}", _trade(_SYMBOLS[0], seq))
        await asyncio.sleep(0.0002)
    await bus.flush()
    t0, start_ns = time.perf_counter(), clock()
    for seq in range(latency_messages, total):
        bus.publish(f"md.trade.{_SYMBOLS[seq % len(_SYMBOLS)]}", _trade(_SYMBOLS[0], seq))
        if seq % 1000 == 0:
            await asyncio.sleep(0)  # a real feed awaits its socket; lets the flusher run
    await bus.flush(timeout=120)
    elapsed = time.perf_counter() - t0
    await bus.close()
    outputs = [await asyncio.to_thread(p.communicate, None, 180) for p in procs]
    results = [{int(k): v for k, v in json.loads(o[0]).items()} for o in outputs]
    latencies = [r[s] - t for r in results for s, t in sent.items() if s in r]
    lost = sum(total - len(r) for r in results)
    last_ns = max((max(r.values()) for r in results if r), default=clock())
    delivery_s = max((last_ns - start_ns) / 1e9, 1e-9)
    return {
        "backend": "redis",
        "subscribers": per * len(procs),
        "processes": len(procs),
        "messages": messages,
        "p50_us": round(_pct(latencies, 0.50), 1) if latencies else None,
        "p99_us": round(_pct(latencies, 0.99), 1) if latencies else None,
        "published_per_s": round(messages / elapsed),
        "deliveries_per_s": round(messages * per * len(procs) / delivery_s),
        "lost": lost,
        "note": (
            f"latency: {latency_messages} messages paced at 5,000/s, publish call until the "
            "first subscriber in each other process has it; published_per_s: as fast as the "
            "publisher can go, until Redis has accepted every frame; deliveries_per_s: until "
            "the last process has the last message, times local subscribers"
        ),
    }


def run_bus_benchmark(
    *,
    backend: Literal["inproc", "redis"] = "inproc",
    subscribers: int = 100,
    messages: int = 200_000,
    redis_url: str = "redis://127.0.0.1:6379/0",
    processes: int = 3,
    latency_messages: int = 5_000,
) -> dict[str, object]:
    """Figures for one backend: ``backend``, ``subscribers``, ``p50_us``, ``p99_us``,
    ``deliveries_per_s`` (and ``published_per_s``). For Redis, ``subscribers`` are spread
    over ``processes`` subscriber processes, each with one Redis connection."""
    if subscribers < 1:
        raise ValueError("subscribers must be >= 1")
    if backend == "inproc":
        return _inproc(subscribers, messages)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    per = max(1, subscribers // processes)
    total = latency_messages + messages
    procs = _spawn(url=redis_url, prefix=prefix, per=per, total=total, processes=processes)
    try:
        return asyncio.run(
            _redis(
                url=redis_url,
                prefix=prefix,
                procs=procs,
                per=per,
                messages=messages,
                latency_messages=latency_messages,
            )
        )
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
