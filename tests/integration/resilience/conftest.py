"""A real Redis for the resilience integration tests (the lead's shared fixtures come later)."""

from __future__ import annotations

import os

import pytest
import redis

_START_HINT = (
    "start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 "
    '--save "" --appendonly no   (or point STOCKYARD_TEST_REDIS_URL at one)'
)


@pytest.fixture
def _resilience_redis() -> str:
    """The URL of a reachable Redis; fails (never skips) with how to start one."""
    url = os.environ.get("STOCKYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        pytest.fail(f"Redis at {url} is unreachable ({exc}); {_START_HINT}", pytrace=False)
    finally:
        client.close()
    return url
