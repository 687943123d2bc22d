"""The message bus: topics, in-process and Redis transports, codec, latest-value cache.

Floor 2: imports only `stockyard.core`, `obs`, `resilience` and `config`.
"""

from stockyard.bus._codec import CodecError, WireType, decode, encode, register_type
from stockyard.bus._factory import bus_from_settings
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
    "decode",
    "encode",
    "family_of",
    "md_topic",
    "policy_for",
    "redis_overview",
    "register_type",
]
