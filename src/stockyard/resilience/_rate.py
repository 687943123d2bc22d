"""Client-side rate limits: pace our own calls to a remote API, and honour its 429s.

Alpaca allows 200 REST requests a minute per API key (its default), counted over a rolling
minute. A token bucket would let a full bucket's burst *and* a minute's refill through in one
window, so ``RateLimiter`` keeps the send times of the last ``limit`` requests instead: a new
one waits until the oldest of them is a window old. When the server still answers 429 (another
process on the same key, a stricter plan), ``pause_until`` holds every caller until the reset
time the server named (``X-RateLimit-Reset`` epoch seconds, or ``Retry-After`` seconds).

All of an API key's clients in a process share one limiter (``rate_limiter_for``), whatever
talks to the API with it: the broker, the historical data source, the feed's back-fill.
``PacedAdapter`` puts a limiter under a ``requests`` session (alpaca-py's transport).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

__all__ = [
    "PacedAdapter",
    "RateLimiter",
    "key_label",
    "rate_limiter_for",
    "rate_limiters",
    "reset_hint",
]


class RateLimiter:
    """At most ``limit`` acquisitions in any ``window_s`` seconds, blocking callers in turn.

    ``clock`` (wall seconds) and ``sleep`` are injected for tests. Thread-safe; callers on an
    event loop call ``acquire`` from their worker thread (alpaca-py is synchronous)."""

    def __init__(
        self,
        name: str,
        *,
        limit: int = 200,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window_s > 0")
        self.name = name
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._waits = 0
        self._waited_s = 0.0
        self._throttled = 0  # 429s seen
        self._last_wait_at: float | None = None

    def acquire(self) -> float:
        """Wait for a free slot and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window_s:
                    self._sent.popleft()
                delay = max(
                    self._paused_until - now,
                    (self._sent[0] + self.window_s - now) if len(self._sent) >= self.limit else 0,
                )
                if delay <= 0:
                    self._sent.append(now)
                    if waited:
                        self._waits += 1
                        self._waited_s += waited
                        self._last_wait_at = now
                    return waited
            self._sleep(delay)
            waited += delay

    def pause_until(self, epoch_s: float) -> None:
        """The server said no more until ``epoch_s``: every caller waits until then."""
        with self._lock:
            self._throttled += 1
            self._paused_until = max(self._paused_until, epoch_s)

    def throttled(self, *, within_s: float = 60.0) -> bool:
        """True while paused by the server, or if a caller had to wait in the last minute."""
        with self._lock:
            now = self._clock()
            recent = self._last_wait_at is not None and now - self._last_wait_at <= within_s
            return self._paused_until > now or recent

    def snapshot(self) -> dict[str, object]:
        """A JSON-serialisable view for health and metrics."""
        with self._lock:
            now = self._clock()
            used = sum(1 for t in self._sent if t > now - self.window_s)
            paused = max(0.0, self._paused_until - now)
            waits, waited, throttled = self._waits, self._waited_s, self._throttled
        return {
            "name": self.name,
            "limit": self.limit,
            "window_s": self.window_s,
            "used_in_window": used,
            "paused_for_s": round(paused, 3),
            "waits": waits,
            "waited_s": round(waited, 3),
            "responses_429": throttled,
            "throttled": self.throttled(),
        }


def reset_hint(headers: Mapping[str, str], *, now: float) -> float | None:
    """When a 429's headers say calls may resume (epoch seconds), or None.

    Alpaca sends ``X-RateLimit-Reset`` (epoch seconds); others send ``Retry-After``
    (seconds from now)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "x-ratelimit-reset" in lowered:
            return float(lowered["x-ratelimit-reset"])
        if "retry-after" in lowered:
            return now + float(lowered["retry-after"])
    except ValueError:
        return None
    return None


class PacedAdapter(HTTPAdapter):
    """A ``requests`` transport that takes a slot of ``limiter`` (when there is one) before
    every request, pauses it when the answer is 429, and sets a timeout when the caller set
    none (alpaca-py sends without one; a dead server must not hang us)."""

    def __init__(self, limiter: RateLimiter | None, *, timeout_s: float) -> None:
        super().__init__()
        self.limiter = limiter
        self.timeout_s = timeout_s

    def send(  # type: ignore[override]  # requests' signature is untyped keyword soup
        self, request: PreparedRequest, **kwargs: object
    ) -> Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        limiter = self.limiter
        if limiter is None:
            return super().send(request, **kwargs)  # type: ignore[arg-type]
        limiter.acquire()
        response = super().send(request, **kwargs)  # type: ignore[arg-type]
        if response.status_code == 429:
            until = reset_hint(response.headers, now=time.time())
            limiter.pause_until(until if until is not None else time.time() + 1.0)
        return response


_lock = threading.Lock()
_limiters: dict[str, RateLimiter] = {}


def key_label(key_id: str) -> str:
    """An API key's name in logs, metrics and messages: a short hash, never the key."""
    return "alpaca:" + hashlib.sha256(key_id.encode()).hexdigest()[:8]


def rate_limiter_for(key_id: str, *, per_minute: int = 200) -> RateLimiter:
    """The process's one limiter for an API key (created on first use). The key itself is
    never kept or shown: the limiter is named by a short hash of it (``key_label``)."""
    name = key_label(key_id)
    with _lock:
        limiter = _limiters.get(name)
        if limiter is None or limiter.limit != per_minute:
            limiter = _limiters[name] = RateLimiter(name, limit=per_minute)
        return limiter


def rate_limiters() -> list[RateLimiter]:
    """Every limiter of this process, by name."""
    with _lock:
        return [_limiters[k] for k in sorted(_limiters)]
