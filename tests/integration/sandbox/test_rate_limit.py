"""Alpaca's REST rate limit: a number of requests per key a minute, 429 past it, and
``X-RateLimit-*`` headers on every answer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from tests.integration.sandbox.conftest import Harness, _start, make_config

from stockyard.sandbox._http import RateLimiter


@pytest.fixture
def limited() -> Iterator[Harness]:
    yield from _start(make_config(rate_limit_per_min=5))


def test_requests_past_the_limit_get_429_with_alpacas_headers(limited: Harness) -> None:
    at = time.time()
    limited.sandbox.rate_limiter.clock = lambda: at  # one window for the whole test
    answers = [limited.http.get("/v2/clock") for _ in range(6)]
    ok, refused = answers[:5], answers[5]
    assert [a.status_code for a in ok] == [200] * 5
    assert [a.headers["X-RateLimit-Remaining"] for a in ok] == ["4", "3", "2", "1", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "5" for a in answers)
    assert refused.status_code == 429
    assert refused.json() == {"code": 42910000, "message": "too many requests"}
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert 0 < reset - at <= 60
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert limited.http.get("/sandbox/status").status_code == 200  # admin is never limited


def test_alpaca_py_retries_a_429_and_succeeds_in_the_next_window(limited: Harness) -> None:
    at = time.time()
    readings = iter([at] * 6)  # five calls fit, the sixth is refused, its retry is a minute on
    limited.sandbox.rate_limiter.clock = lambda: next(readings, at + 60)
    client = limited.trading()
    for _ in range(6):
        assert client.get_clock().timestamp is not None
    assert next(readings, None) is None  # the sixth call was refused once, then retried


def test_the_window_starts_over_each_minute() -> None:
    now = [120.5]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.take("k")[0] for _ in range(3)] == [True, True, False]
    assert limiter.take("other")[0] is True
    now[0] = 180.0
    allowed, headers = limiter.take("k")
    assert allowed
    assert headers["X-RateLimit-Remaining"] == "1"
    assert headers["X-RateLimit-Reset"] == "240"


def test_no_limit_sends_no_rate_limit_headers(sandbox: Harness) -> None:
    answer = sandbox.http.get("/v2/clock")
    assert "X-RateLimit-Limit" not in answer.headers
