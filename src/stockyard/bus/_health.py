"""Health of a bus (for the health layer) and what a separate process can see in Redis."""

from __future__ import annotations

import time

import redis.asyncio as aredis
import redis.exceptions

from stockyard.bus._inproc import InProcessBus
from stockyard.bus._redis import CONNECTION_ERRORS, RedisBus

__all__ = ["bus_health", "redis_overview"]


async def bus_health(bus: InProcessBus | RedisBus) -> dict[str, object]:
    """``status`` (ok / degraded / down), connection, ping latency, backlogs, pending counts.

    Register it with the health layer as an async check; it never raises.
    """
    if isinstance(bus, InProcessBus):
        queues = bus.stats()["queues"]
        return {"status": "ok", "backend": "inproc", "queues": queues}
    out: dict[str, object] = {"backend": "redis", "connected": bus.connected}
    try:
        t0 = time.perf_counter()
        await bus.redis.ping()
        out["ping_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        pending: dict[str, int] = {}
        for family in bus.stream_families:
            key = f"{bus.prefix}stream:{family}"
            try:
                summary = await bus.redis.xpending(key, bus.group)
                pending[family] = int(summary["pending"])
            except redis.exceptions.ResponseError:
                pending[family] = 0  # no stream or group yet
        out["pending"] = pending
    except CONNECTION_ERRORS as exc:
        out.update(status="down", error=str(exc))
        return out
    stats = bus.stats()
    out["outbound"] = stats["outbound"]
    out["reconnects"] = stats["reconnects"]
    out["status"] = "ok" if bus.connected else "degraded"
    return out


async def redis_overview(*, url: str, prefix: str = "stockyard:") -> dict[str, object]:
    """What Redis itself knows about the buses under ``prefix``: channels with subscriber
    counts, pattern subscriptions, and each stream's length, groups and pending entries."""
    client = aredis.Redis.from_url(url, socket_connect_timeout=3, decode_responses=True)
    try:
        t0 = time.perf_counter()
        await client.ping()
        ping_ms = round((time.perf_counter() - t0) * 1000, 3)
        channels = sorted(await client.pubsub_channels(f"{prefix}*"))
        numsub = dict(await client.pubsub_numsub(*channels)) if channels else {}
        streams: dict[str, object] = {}
        async for key in client.scan_iter(match=f"{prefix}stream:*", _type="stream"):
            groups = await client.xinfo_groups(key)
            streams[key] = {
                "length": await client.xlen(key),
                "groups": [
                    {
                        "name": g["name"],
                        "consumers": g["consumers"],
                        "pending": g["pending"],
                        "last_delivered_id": g["last-delivered-id"],
                        "lag": g.get("lag"),
                    }
                    for g in groups
                ],
            }
        return {
            "backend": "redis",
            "ping_ms": ping_ms,
            "pattern_subscriptions": await client.pubsub_numpat(),
            "channels": {c: numsub.get(c, 0) for c in channels},
            "streams": streams,
        }
    finally:
        await client.aclose()
