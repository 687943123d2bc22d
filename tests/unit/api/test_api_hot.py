"""The fast path's key reading agrees with FastAPI's security dependencies: the first header
of each name only."""

from __future__ import annotations

from stockyard.api._v1_hot import presented_key


def test_the_first_x_api_key_wins_even_over_a_bearer() -> None:
    headers = [(b"authorization", b"Bearer sy_b"), (b"x-api-key", b"sy_a")]
    assert presented_key(headers) == "sy_a"


def test_only_the_first_header_of_a_name_counts_as_fastapi_reads_it() -> None:
    # FastAPI sees "Basic x" and no bearer: the later Bearer header is no key
    assert presented_key([(b"authorization", b"Basic x"), (b"authorization", b"Bearer k")]) is None
    # an empty first X-API-Key is none, and the later one is not read; the bearer is
    headers = [(b"x-api-key", b""), (b"x-api-key", b"sy_late"), (b"authorization", b"bearer k")]
    assert presented_key(headers) == "k"
    assert presented_key([(b"x-api-key", b""), (b"x-api-key", b"sy_late")]) is None


def test_no_key_is_none() -> None:
    assert presented_key([(b"accept", b"*/*")]) is None
    assert presented_key([(b"authorization", b"Bearer")]) is None
