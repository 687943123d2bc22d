"""The one exception root, its two branches, the concrete errors, and `classify`."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

import pydantic
import sqlalchemy.exc

from stockyard.config import ConfigError

__all__ = [
    "ApiError",
    "CircuitOpenError",
    "DataUnavailableError",
    "DatabaseError",
    "DuplicateIntentError",
    "ErrorCategory",
    "FatalError",
    "InvalidDataError",
    "NetworkError",
    "OrderRejectedError",
    "RateLimitedError",
    "RetryableError",
    "Severity",
    "StockyardError",
    "ValidationError",
    "classify",
]


class ErrorCategory(StrEnum):
    """Which part of the world an error comes from; retry and recovery are chosen by it."""

    API = "api"
    DATA = "data"
    TRADING = "trading"
    NETWORK = "network"
    SYSTEM = "system"
    VALIDATION = "validation"
    AI = "ai"
    DATABASE = "database"


class Severity(StrEnum):
    """How bad an error is for the running system."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_EMPTY: Mapping[str, object] = MappingProxyType({})


class StockyardError(Exception):
    """Root of every error Stockyard raises: a message plus category, severity and retryability.

    Subclasses set class defaults; every attribute can be overridden per instance by keyword.
    ``cause`` is also set as ``__cause__`` so tracebacks show the original exception.
    """

    default_category: ClassVar[ErrorCategory] = ErrorCategory.SYSTEM
    default_severity: ClassVar[Severity] = Severity.MEDIUM
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        category: ErrorCategory | None = None,
        severity: Severity | None = None,
        retryable: bool | None = None,
        context: Mapping[str, object] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message or type(self).__name__
        self.category = category if category is not None else self.default_category
        self.severity = severity if severity is not None else self.default_severity
        self.retryable = retryable if retryable is not None else self.default_retryable
        self.context: Mapping[str, object] = MappingProxyType(dict(context)) if context else _EMPTY
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (worker pools, Dask): rebuild without calling the
        # subclass's own constructor, whose signature varies, and with a picklable context.
        state = {**self.__dict__, "context": dict(self.context)}
        return (_rebuild, (type(self), self.args), state)

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        context = state.get("context")
        self.__dict__.update(state)
        self.context = MappingProxyType(dict(context)) if isinstance(context, Mapping) else _EMPTY

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, category={self.category.value}, "
            f"severity={self.severity.value}, retryable={self.retryable})"
        )


class RetryableError(StockyardError):
    """A transient failure: trying again later may succeed."""

    default_retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str = "",
        *,
        category: ErrorCategory | None = None,
        severity: Severity | None = None,
        context: Mapping[str, object] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(
            message,
            category=category,
            severity=severity,
            retryable=True,
            context=context,
            cause=cause,
        )


class FatalError(StockyardError):
    """A failure that trying again cannot fix (bad input, a rejected order, a bug)."""

    default_severity: ClassVar[Severity] = Severity.HIGH

    def __init__(
        self,
        message: str = "",
        *,
        category: ErrorCategory | None = None,
        severity: Severity | None = None,
        context: Mapping[str, object] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(
            message,
            category=category,
            severity=severity,
            retryable=False,
            context=context,
            cause=cause,
        )


class NetworkError(RetryableError):
    """A connection failed, was reset or timed out."""

    default_category = ErrorCategory.NETWORK


class ApiError(RetryableError):
    """A remote API answered with a transient failure (5xx, maintenance)."""

    default_category = ErrorCategory.API


class RateLimitedError(RetryableError):
    """A remote API asked us to slow down; ``retry_after`` is its hint in seconds, if any."""

    default_category = ErrorCategory.API
    default_severity = Severity.LOW

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        severity: Severity | None = None,
        context: Mapping[str, object] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, severity=severity, context=context, cause=cause)
        self.retry_after = retry_after


class CircuitOpenError(RetryableError):
    """A circuit breaker refused the call; ``retry_after`` is the time until it half-opens."""

    default_category = ErrorCategory.NETWORK
    default_severity = Severity.MEDIUM

    def __init__(
        self,
        breaker: str,
        *,
        retry_after: float,
        category: ErrorCategory | None = None,
    ) -> None:
        super().__init__(
            f"circuit {breaker!r} is open; retry in {retry_after:.3f}s",
            category=category,
            context={"breaker": breaker},
        )
        self.breaker = breaker
        self.retry_after = retry_after


class DataUnavailableError(RetryableError):
    """A data source has no answer right now (missing range, source down)."""

    default_category = ErrorCategory.DATA


class DatabaseError(RetryableError):
    """The database could not be reached or the operation failed transiently."""

    default_category = ErrorCategory.DATABASE
    default_severity = Severity.HIGH


class ValidationError(FatalError):
    """Bad input (a request, an order, a parameter); nothing was changed."""

    default_category = ErrorCategory.VALIDATION
    default_severity = Severity.LOW


class InvalidDataError(FatalError):
    """Malformed market data (a bad frame, a NaN price); it is dropped and counted."""

    default_category = ErrorCategory.DATA
    default_severity = Severity.LOW


class OrderRejectedError(FatalError):
    """The broker or a risk check rejected an order; it must not be resent as is."""

    default_category = ErrorCategory.TRADING


class DuplicateIntentError(FatalError):
    """An order intent with this ``client_order_id`` is already recorded; nothing was written."""

    default_category = ErrorCategory.TRADING


class MoneyPathError(FatalError):
    """A fault on the money path that must never be only logged: a fill or order-update
    listener that raised, a kill-switch flatten that failed, a reconciliation that failed,
    journal records held after a failed commit. A backtest aborts on it; the live node
    records it, alerts and shows it in health. A strategy's error wrapper lets it through:
    it is not the strategy's fault."""

    default_category = ErrorCategory.TRADING
    default_severity = Severity.CRITICAL


_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)

# httpx and requests are not dependencies of ours; their errors are recognised by class name.
_NETWORK_CLASS_NAMES = frozenset(
    {
        "TransportError",  # httpx: ConnectError, ReadError, TimeoutException, ... derive from it
        "TimeoutException",
        "ConnectError",
        "ConnectTimeout",  # requests
        "ReadTimeout",
        "Timeout",
        "ProxyError",
        "SSLError",
        "ChunkedEncodingError",
        "NewConnectionError",  # urllib3
        "MaxRetryError",
        "ProtocolError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
    }
)
_HTTP_STATUS_CLASS_NAMES = frozenset({"HTTPStatusError", "HTTPError", "APIError"})


def _foreign_names(exc: BaseException) -> set[str]:
    return {
        cls.__name__
        for cls in type(exc).__mro__
        if cls.__module__.split(".")[0] in {"httpx", "requests", "urllib3", "alpaca"}
    }


def _http_status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after_header(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not isinstance(headers, Mapping):
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _from_http_status(exc: BaseException, status: int, message: str) -> StockyardError:
    context = {"source_type": _type_name(exc), "status": status}
    if status == 429:
        return RateLimitedError(
            message, retry_after=_retry_after_header(exc), context=context, cause=exc
        )
    if status >= 500 or status in {408, 425}:
        return ApiError(message, context=context, cause=exc)
    if status in {400, 422}:
        return ValidationError(message, context=context, cause=exc)
    return FatalError(message, category=ErrorCategory.API, context=context, cause=exc)


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _classify_http_client(exc: BaseException, message: str) -> StockyardError | None:
    names = _foreign_names(exc)
    if not names:
        return None
    status = _http_status(exc)
    if status is not None and names & _HTTP_STATUS_CLASS_NAMES:
        return _from_http_status(exc, status, message)
    if names & _NETWORK_CLASS_NAMES or "ConnectionError" in names:
        return NetworkError(message, context={"source_type": _type_name(exc)}, cause=exc)
    return None


def _classify_store(exc: BaseException, message: str) -> StockyardError | None:
    context: Mapping[str, object] = {"source_type": _type_name(exc)}
    # Looked up, not imported: a process that never loaded redis (on the in-process bus) holds
    # none of its errors, and importing it would cost every process ~0.1 s at start.
    redis_errors = sys.modules.get("redis.exceptions")
    if redis_errors is not None and isinstance(
        exc, redis_errors.ConnectionError | redis_errors.TimeoutError
    ):
        return NetworkError(message, context={**context, "dependency": "redis"}, cause=exc)
    transient = isinstance(
        exc,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.DisconnectionError
        | sqlalchemy.exc.TimeoutError,
    ) or (isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated)
    if transient:
        return DatabaseError(message, context=context, cause=exc)
    if isinstance(exc, sqlalchemy.exc.SQLAlchemyError) or (
        redis_errors is not None and isinstance(exc, redis_errors.RedisError)
    ):
        # integrity errors, bad statements, wrong types: the same call fails the same way again
        return FatalError(message, category=ErrorCategory.DATABASE, context=context, cause=exc)
    return None


def _classify_builtin(exc: BaseException, message: str) -> StockyardError:
    context: Mapping[str, object] = {"source_type": _type_name(exc)}
    # asyncio.TimeoutError is the builtin TimeoutError since Python 3.11.
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror | socket.herror) or (
        isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS
    ):
        return NetworkError(message, context=context, cause=exc)
    if isinstance(exc, ConfigError):  # a bad setting: nothing runs until it is fixed
        return FatalError(
            message,
            category=ErrorCategory.VALIDATION,
            severity=Severity.CRITICAL,
            context=context,
            cause=exc,
        )
    if isinstance(exc, pydantic.ValidationError | ValueError):
        return ValidationError(message, context=context, cause=exc)
    severity = Severity.CRITICAL if isinstance(exc, MemoryError) else Severity.HIGH
    return FatalError(
        message, category=ErrorCategory.SYSTEM, severity=severity, context=context, cause=exc
    )


def classify(exc: BaseException) -> StockyardError:
    """Map any exception to a `StockyardError`; ours are returned unchanged.

    The result carries the original as ``cause``, so ``raise classify(e) from e`` is lossless.
    Connection failures and timeouts (builtin, redis, httpx, requests) are retryable NETWORK
    errors; HTTP 429 is `RateLimitedError`, 5xx `ApiError`; lost database connections are
    `DatabaseError`; a ``config.ConfigError`` is a fatal CRITICAL VALIDATION error,
    any other ``ValueError`` (pydantic's included) is `ValidationError`. Anything else,
    other ``OSError`` included, is a fatal SYSTEM error: retrying what we do not understand is
    unsafe.
    """
    if isinstance(exc, StockyardError):
        return exc
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return (
        _classify_http_client(exc, message)
        or _classify_store(exc, message)
        or _classify_builtin(exc, message)
    )


def _rebuild(cls: type[StockyardError], args: tuple[object, ...]) -> StockyardError:
    error = cls.__new__(cls)
    error.args = args
    return error
