"""Client-side rate limits: a rolling window per key, and a server's 429 honoured."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from stockyard.config import AlpacaSettings
from stockyard.resilience import PacedAdapter, RateLimiter, rate_limiter_for, reset_hint


class Clock:
    """Wall seconds that move only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_no_more_than_the_limit_go_out_in_any_window() -> None:
    clock = Clock()
    limiter = RateLimiter("k", limit=3, window_s=10.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(7):
        limiter.acquire()
        sent.append(clock.now)
        clock.now += 1.0
    # three at once, then each waits for the oldest in the window to be 10 s old
    start = sent[0]
    assert [t - start for t in sent] == [0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 20.0]
    for i in range(len(sent)):
        assert sum(1 for t in sent if sent[i] <= t < sent[i] + 10.0) <= 3
    snapshot = limiter.snapshot()
    assert snapshot["waits"] == 2  # the 4th and the 7th
    assert snapshot["throttled"] is True
    clock.now += 120.0
    assert limiter.throttled() is False


def test_a_pause_from_the_server_holds_every_caller_until_its_reset() -> None:
    clock = Clock()
    limiter = RateLimiter("k", limit=100, window_s=60.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause_until(clock.now + 7.5)
    assert limiter.throttled()
    assert limiter.acquire() == pytest.approx(7.5)
    assert limiter.snapshot()["responses_429"] == 1


def test_reset_hints_come_from_alpacas_header_or_retry_after() -> None:
    assert reset_hint({"X-RateLimit-Reset": "1700000123"}, now=0.0) == 1_700_000_123.0
    assert reset_hint({"Retry-After": "2"}, now=100.0) == 102.0
    assert reset_hint({"Retry-After": "soon"}, now=100.0) is None
    assert reset_hint({}, now=100.0) is None


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter("k", limit=0)


def test_one_limiter_per_key_named_without_the_key() -> None:
    a = rate_limiter_for("PKTESTKEY123", per_minute=200)
    assert rate_limiter_for("PKTESTKEY123", per_minute=200) is a
    assert rate_limiter_for("OTHERKEY", per_minute=200) is not a
    assert "PKTESTKEY123" not in a.name
    assert "PKTESTKEY123" not in str(a.snapshot())


def test_the_pace_is_alpacas_against_alpaca_and_none_against_the_local_sandbox() -> None:
    assert AlpacaSettings().requests_per_minute is None
    paper = AlpacaSettings(base_url="https://paper-api.alpaca.markets")
    assert paper.requests_per_minute == 200
    assert AlpacaSettings(rate_limit_per_minute=50).requests_per_minute == 50


class _Throttling(BaseHTTPRequestHandler):
    """Answers 429 (reset in 0.3 s) to the first request, 200 after."""

    hits: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        self.hits.append(time.time())
        if len(self.hits) == 1:
            self.send_response(429)
            self.send_header("X-RateLimit-Reset", f"{time.time() + 0.3:.3f}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def throttling_server() -> Iterator[str]:
    _Throttling.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_after_a_429_the_next_request_waits_for_the_servers_reset(throttling_server: str) -> None:
    limiter = RateLimiter("paced", limit=100)
    session = requests.Session()
    session.mount("http://", PacedAdapter(limiter, timeout_s=5.0))
    assert session.get(throttling_server).status_code == 429
    assert session.get(throttling_server).status_code == 200
    first, second = _Throttling.hits
    assert second - first >= 0.25  # held until the reset the server named
    snapshot = limiter.snapshot()
    assert snapshot["responses_429"] == 1
    assert snapshot["waits"] == 1
    session.close()
