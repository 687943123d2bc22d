"""The exception root, its branches, and `classify`."""

from __future__ import annotations

import asyncio
import errno
import json
import pickle
import socket
import sqlite3
from pathlib import Path

import pydantic
import pytest
import redis
import redis.backoff
import redis.retry
import sqlalchemy

from stockyard.config import ConfigError
from stockyard.resilience import (
    ApiError,
    CircuitOpenError,
    DatabaseError,
    DataUnavailableError,
    ErrorCategory,
    FatalError,
    InvalidDataError,
    NetworkError,
    OrderRejectedError,
    RateLimitedError,
    RetryableError,
    Severity,
    StockyardError,
    ValidationError,
    classify,
)


@pytest.mark.parametrize(
    ("error", "category", "retryable"),
    [
        (ValidationError("qty must be positive"), ErrorCategory.VALIDATION, False),
        (InvalidDataError("NaN close"), ErrorCategory.DATA, False),
        (OrderRejectedError("insufficient buying power"), ErrorCategory.TRADING, False),
        (NetworkError("reset by peer"), ErrorCategory.NETWORK, True),
        (ApiError("503 from broker"), ErrorCategory.API, True),
        (RateLimitedError("429", retry_after=1.5), ErrorCategory.API, True),
        (DataUnavailableError("no bars for range"), ErrorCategory.DATA, True),
        (DatabaseError("database is locked"), ErrorCategory.DATABASE, True),
        (CircuitOpenError("alpaca", retry_after=3.0), ErrorCategory.NETWORK, True),
    ],
)
def test_each_concrete_error_has_its_category_and_branch(
    error: StockyardError, category: ErrorCategory, retryable: bool
) -> None:
    assert error.category is category
    assert error.retryable is retryable
    assert isinstance(error, RetryableError if retryable else FatalError)


def test_a_config_error_is_classified_fatal_critical_and_of_validation() -> None:
    error = classify(ConfigError("STOCKYARD_HOME is not a directory", key="home"))

    assert isinstance(error, FatalError)
    assert (error.category, error.severity, error.retryable) == (
        ErrorCategory.VALIDATION,
        Severity.CRITICAL,
        False,
    )
    assert "STOCKYARD_HOME is not a directory" in error.message


def test_category_and_severity_can_be_overridden_per_instance() -> None:
    error = RetryableError("model server busy", category=ErrorCategory.AI, severity=Severity.LOW)

    assert (error.category, error.severity, error.retryable) == (
        ErrorCategory.AI,
        Severity.LOW,
        True,
    )


def test_options_beyond_the_message_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        NetworkError("timeout", ErrorCategory.API)  # type: ignore[call-arg]


def test_context_is_a_read_only_copy_and_the_cause_is_chained() -> None:
    context = {"symbol": "AAPL"}
    cause = ConnectionResetError("peer reset")
    error = NetworkError("stream dropped", context=context, cause=cause)
    context["symbol"] = "MSFT"

    assert error.context == {"symbol": "AAPL"}
    with pytest.raises(TypeError):
        error.context["symbol"] = "MSFT"  # type: ignore[index]
    assert error.cause is cause
    assert error.__cause__ is cause


def test_rate_limited_error_carries_the_retry_after_hint() -> None:
    assert RateLimitedError("slow down", retry_after=2.5).retry_after == 2.5
    assert RateLimitedError("slow down").retry_after is None


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    assert str(NetworkError()) == "NetworkError"


def test_classify_returns_our_own_errors_unchanged() -> None:
    error = OrderRejectedError("duplicate client_order_id")

    assert classify(error) is error


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionError("refused"),
        ConnectionResetError("reset"),
        TimeoutError("read timed out"),
        asyncio.TimeoutError(),  # noqa: UP041 - the alias callers still write must classify too
        socket.gaierror(-2, "Name or service not known"),
        OSError(errno.ENETUNREACH, "Network is unreachable"),
    ],
)
def test_connection_failures_and_timeouts_become_retryable_network_errors(
    exc: BaseException,
) -> None:
    error = classify(exc)

    assert isinstance(error, NetworkError)
    assert error.retryable
    assert error.cause is exc


def test_a_missing_file_is_a_fatal_system_error_not_a_network_one() -> None:
    error = classify(FileNotFoundError(errno.ENOENT, "No such file", "bars.parquet"))

    assert isinstance(error, FatalError)
    assert error.category is ErrorCategory.SYSTEM


def test_value_errors_and_pydantic_errors_become_validation_errors() -> None:
    class Order(pydantic.BaseModel):
        qty: int

    with pytest.raises(pydantic.ValidationError) as caught:
        Order.model_validate({"qty": "many"})

    assert isinstance(classify(ValueError("bad symbol")), ValidationError)
    assert isinstance(classify(caught.value), ValidationError)


def test_an_unknown_exception_is_a_fatal_system_error() -> None:
    error = classify(RuntimeError("boom"))

    assert isinstance(error, FatalError)
    assert error.category is ErrorCategory.SYSTEM
    assert error.context["source_type"] == "builtins.RuntimeError"
    assert "boom" in error.message


def test_memory_exhaustion_is_critical() -> None:
    assert classify(MemoryError()).severity is Severity.CRITICAL


def test_an_unreachable_redis_is_a_network_error() -> None:
    client = redis.Redis(
        host="127.0.0.1",
        port=1,  # nothing listens on port 1
        socket_connect_timeout=0.5,
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )
    with pytest.raises(redis.exceptions.ConnectionError) as caught:
        client.ping()
    client.close()

    error = classify(caught.value)

    assert isinstance(error, NetworkError)
    assert error.context["dependency"] == "redis"


def test_a_redis_command_error_is_a_fatal_database_error() -> None:
    error = classify(redis.exceptions.ResponseError("WRONGTYPE"))

    assert isinstance(error, FatalError)
    assert error.category is ErrorCategory.DATABASE


def test_a_database_that_cannot_be_opened_is_a_retryable_database_error(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'missing' / 'state.db'}")
    with pytest.raises(sqlalchemy.exc.OperationalError) as caught, engine.connect():
        pass
    engine.dispose()

    error = classify(caught.value)

    assert isinstance(error, DatabaseError)
    assert error.retryable


def test_a_constraint_violation_is_a_fatal_database_error() -> None:
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE orders (id TEXT PRIMARY KEY)"))
        conn.execute(sqlalchemy.text("INSERT INTO orders VALUES ('a')"))
    with pytest.raises(sqlalchemy.exc.IntegrityError) as caught, engine.begin() as conn:
        conn.execute(sqlalchemy.text("INSERT INTO orders VALUES ('a')"))
    engine.dispose()

    error = classify(caught.value)

    assert isinstance(caught.value.orig, sqlite3.IntegrityError)
    assert isinstance(error, FatalError)
    assert error.category is ErrorCategory.DATABASE


class _Response:
    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}


# Stand-ins shaped like httpx's and requests' errors: classify knows them by module and name.
class TransportError(Exception):
    __module__ = "httpx"


class ConnectError(TransportError):
    __module__ = "httpx"


class HTTPStatusError(Exception):
    __module__ = "httpx"

    def __init__(self, message: str, *, response: _Response) -> None:
        super().__init__(message)
        self.response = response


class RequestsConnectionError(OSError):
    __module__ = "requests.exceptions"


RequestsConnectionError.__name__ = "ConnectionError"


def test_httpx_style_transport_errors_become_network_errors() -> None:
    assert isinstance(classify(ConnectError("connection refused")), NetworkError)


def test_requests_style_connection_errors_become_network_errors() -> None:
    assert isinstance(classify(RequestsConnectionError("Max retries exceeded")), NetworkError)


def test_http_429_becomes_rate_limited_with_the_retry_after_header() -> None:
    exc = HTTPStatusError("Too Many Requests", response=_Response(429, {"Retry-After": "2"}))

    error = classify(exc)

    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 2.0


def test_http_5xx_is_retryable_and_4xx_is_fatal() -> None:
    server = classify(HTTPStatusError("Service Unavailable", response=_Response(503)))
    client = classify(HTTPStatusError("Not Found", response=_Response(404)))
    bad_request = classify(HTTPStatusError("Unprocessable", response=_Response(422)))

    assert isinstance(server, ApiError)
    assert isinstance(client, FatalError)
    assert client.category is ErrorCategory.API
    assert isinstance(bad_request, ValidationError)


def test_an_error_context_is_json_serialisable() -> None:
    error = classify(TimeoutError("read timed out"))

    assert json.loads(json.dumps(dict(error.context))) == {"source_type": "builtins.TimeoutError"}


def test_errors_survive_pickling_across_a_process_boundary_with_their_fields() -> None:
    original = StockyardError("bad thing", context={"symbol": "AAPL"})
    copy = pickle.loads(pickle.dumps(original))
    assert (type(copy), str(copy), dict(copy.context)) == (
        StockyardError,
        "bad thing",
        {"symbol": "AAPL"},
    )
    assert (copy.category, copy.severity, copy.retryable) == (
        original.category,
        original.severity,
        original.retryable,
    )
    limited = pickle.loads(pickle.dumps(RateLimitedError("slow down", retry_after=3.0)))
    assert limited.retry_after == 3.0
    opened = pickle.loads(pickle.dumps(CircuitOpenError("redis", retry_after=2.0)))
    assert str(opened) == str(CircuitOpenError("redis", retry_after=2.0))
