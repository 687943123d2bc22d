"""Build the configured bus from settings (``bus.backend``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from stockyard.bus._inproc import InProcessBus
from stockyard.bus._redis import RedisBus
from stockyard.config import ConfigError, Settings

__all__ = ["bus_from_settings"]


def bus_from_settings(
    settings: Settings,
    *,
    name: str | None = None,
    group: str | None = None,
    registry: CollectorRegistry | None = None,
) -> InProcessBus | RedisBus:
    """An `InProcessBus`, or a `RedisBus` (not yet started: ``await bus.start()``)."""
    cfg = settings.bus
    if cfg.backend == "inproc":
        return InProcessBus(
            name=name or "inproc",
            queue_size=cfg.queue_size,
            sample_every=cfg.latency_sample_every,
            registry=registry,
        )
    url = settings.redis.connection_url()
    if url is None:
        raise ConfigError("bus.backend is redis but redis.host (or redis.url) is not set")
    return RedisBus(
        url=url,
        prefix=cfg.prefix,
        name=name or "redis",
        group=group,
        queue_size=cfg.queue_size,
        stream_maxlen=cfg.stream_maxlen,
        sample_every=cfg.latency_sample_every,
        registry=registry,
    )
