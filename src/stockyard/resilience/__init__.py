"""Resilience: the exception root, error registry, circuit breakers, retry and recovery.

Floor 1: imports only `stockyard.core`, `stockyard.config`, `stockyard.obs` and third-party
libraries.
"""

from stockyard.resilience._breaker import (
    BreakerRegistry,
    CircuitBreaker,
    CircuitState,
    StateChange,
    counts_as_failure,
    default_breaker_registry,
)
from stockyard.resilience._errors import (
    ApiError,
    CircuitOpenError,
    DatabaseError,
    DataUnavailableError,
    DuplicateIntentError,
    ErrorCategory,
    FatalError,
    InvalidDataError,
    MoneyPathError,
    NetworkError,
    OrderRejectedError,
    RateLimitedError,
    RetryableError,
    Severity,
    StockyardError,
    ValidationError,
    classify,
)
from stockyard.resilience._rate import (
    PacedAdapter,
    RateLimiter,
    rate_limiter_for,
    rate_limiters,
    reset_hint,
)
from stockyard.resilience._recovery import (
    RecoveryAction,
    RecoveryRegistry,
    RecoveryResult,
    reconnect_with_backoff,
    reconnect_with_backoff_async,
)
from stockyard.resilience._redis_state import RedisBreakerStateStore
from stockyard.resilience._registry import (
    ErrorRecord,
    ErrorRegistry,
    ErrorSummary,
    RecoveryOutcome,
    RecoveryRecord,
    default_error_registry,
    fingerprint,
)
from stockyard.resilience._retry import (
    RETRY_POLICIES,
    RetryPolicy,
    async_retry_policy,
    is_retryable,
    retry_policy,
    retrying,
)
from stockyard.resilience._state_store import (
    BreakerStateStore,
    InMemoryBreakerStateStore,
    SharedOpen,
)

__all__ = [
    "RETRY_POLICIES",
    "ApiError",
    "BreakerRegistry",
    "BreakerStateStore",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "DataUnavailableError",
    "DatabaseError",
    "DuplicateIntentError",
    "ErrorCategory",
    "ErrorRecord",
    "ErrorRegistry",
    "ErrorSummary",
    "FatalError",
    "InMemoryBreakerStateStore",
    "InvalidDataError",
    "MoneyPathError",
    "NetworkError",
    "OrderRejectedError",
    "PacedAdapter",
    "RateLimitedError",
    "RateLimiter",
    "RecoveryAction",
    "RecoveryOutcome",
    "RecoveryRecord",
    "RecoveryRegistry",
    "RecoveryResult",
    "RedisBreakerStateStore",
    "RetryPolicy",
    "RetryableError",
    "Severity",
    "SharedOpen",
    "StateChange",
    "StockyardError",
    "ValidationError",
    "async_retry_policy",
    "classify",
    "counts_as_failure",
    "default_breaker_registry",
    "default_error_registry",
    "fingerprint",
    "is_retryable",
    "rate_limiter_for",
    "rate_limiters",
    "reconnect_with_backoff",
    "reconnect_with_backoff_async",
    "reset_hint",
    "retry_policy",
    "retrying",
]
