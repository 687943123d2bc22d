"""The message bus: topics, in-process and Redis transports, codec, latest-value cache.

Floor 2: imports only `stockyard.core`, `obs`, `resilience` and `config`.
"""

from stockyard.bus import _codec_exec  # noqa: F401  # registers Order, Fill and Position
from stockyard.bus._codec import CodecError, WireType, decode, encode, register_type
from stockyard.bus._factory import bus_from_settings, close_bus, describe_bus, start_bus
from stockyard.bus._health import bus_health, redis_overview
from stockyard.bus._inproc import InProcessBus
from stockyard.bus._lvc import LatestValueCache
from stockyard.bus._protocol import (
    MessageBus,
    NoResponderError,
    RequestFailedError,
    RequestTimeoutError,
    Subscription,
)
from stockyard.bus._redis import RedisBus
from stockyard.bus._topics import QueuePolicy, TopicPattern, family_of, md_topic, policy_for

__all__ = [
    "CodecError",
    "InProcessBus",
    "LatestValueCache",
    "MessageBus",
    "NoResponderError",
    "QueuePolicy",
    "RedisBus",
    "RequestFailedError",
    "RequestTimeoutError",
    "Subscription",
    "TopicPattern",
    "WireType",
    "bus_from_settings",
    "bus_health",
    "close_bus",
    "decode",
    "describe_bus",
    "encode",
    "family_of",
    "md_topic",
    "policy_for",
    "redis_overview",
    "register_type",
    "start_bus",
]
