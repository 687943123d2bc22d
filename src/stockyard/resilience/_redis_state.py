"""Breaker OPEN state shared between processes through Redis."""

from __future__ import annotations

from typing import Protocol

from stockyard.resilience._state_store import SharedOpen

__all__ = ["RedisBreakerStateStore"]

# Delete the key only if we still own it: a peer may have re-opened the breaker since.
_CLEAR_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Owner and remaining lifetime in one atomic round trip.
_READ = """
return {redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}
"""


class _SyncRedis(Protocol):
    """The few redis-py (sync) calls the store uses."""

    def set(self, name: str, value: str, *, px: int) -> object: ...
    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object: ...


class RedisBreakerStateStore:
    """Shares breaker OPEN state through Redis keys ``{prefix}{name}``.

    The key holds the owner id and expires when the cooldown ends, so Redis's own clock decides
    when a shared OPEN lapses (process clocks are never compared). Calls are blocking; give the
    client short ``socket_timeout`` / ``socket_connect_timeout`` (e.g. 0.25 s). Async breakers run
    these calls in a worker thread, and a breaker whose store fails goes on with its local state.
    """

    blocking = True

    def __init__(self, client: _SyncRedis, *, prefix: str = "stockyard:breaker:") -> None:
        self._client = client
        self._prefix = prefix

    def key(self, name: str) -> str:
        """The Redis key that holds ``name``'s OPEN mark."""
        return f"{self._prefix}{name}"

    def mark_open(self, name: str, *, owner: str, cooldown_s: float) -> None:
        """Record that ``name`` is open for ``cooldown_s`` seconds, opened by ``owner``."""
        self._client.set(self.key(name), owner, px=max(1, round(cooldown_s * 1000)))

    def read_open(self, name: str) -> SharedOpen | None:
        """The shared OPEN state of ``name``, or None when it is not open."""
        reply = self._client.eval(_READ, 1, self.key(name))
        if not isinstance(reply, list) or len(reply) != 2:
            return None
        owner, ttl_ms = reply
        # A missing key comes back from Lua as false, i.e. None (and the list may be cut short).
        if not owner or not isinstance(ttl_ms, int) or ttl_ms <= 0:
            return None
        if isinstance(owner, bytes):
            owner = owner.decode()
        return SharedOpen(remaining_s=ttl_ms / 1000, owner=str(owner))

    def clear(self, name: str, *, owner: str) -> None:
        """Remove the OPEN mark of ``name`` if ``owner`` set it."""
        self._client.eval(_CLEAR_IF_OWNER, 1, self.key(name), owner)
