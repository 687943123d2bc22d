"""Build the configured bus from settings (``bus.backend``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from stockyard.bus._inproc import InProcessBus
from stockyard.bus._protocol import MessageBus
from stockyard.bus._redis import RedisBus
from stockyard.config import ConfigError, Settings

__all__ = ["bus_from_settings", "close_bus", "describe_bus", "start_bus"]


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


async def start_bus(bus: MessageBus) -> None:
    """Connect ``bus`` if it needs it (a Redis bus not yet started); call on its loop."""
    if isinstance(bus, RedisBus) and not bus.started:
        await bus.start()


async def close_bus(bus: MessageBus) -> None:
    """Undo `start_bus`: a Redis bus sends what it still holds and disconnects (an
    in-process bus is left as it is: its owner may still use it)."""
    if isinstance(bus, RedisBus) and bus.started:
        await bus.close()


def describe_bus(settings: Settings) -> str:
    """The bus the settings choose, for a banner: ``inproc``, or ``redis host:port/db
    (prefix P)`` (never a password)."""
    if settings.bus.backend == "inproc":
        return "inproc (this process only)"
    redis = settings.redis
    where = "redis.url" if redis.url is not None else f"{redis.host}:{redis.port}/{redis.db}"
    return f"redis {where}  (prefix {settings.bus.prefix})"
