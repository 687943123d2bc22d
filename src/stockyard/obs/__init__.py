"""Observability: unified logging and its statistics, doctor checks."""

from stockyard.obs._doctor import (
    CheckFunction,
    CheckOutcome,
    CheckResult,
    CheckStatus,
    DoctorCheck,
    DoctorRegistry,
    DoctorReport,
)
from stockyard.obs._logging import (
    COMPONENTS,
    Logger,
    bind_context,
    configure_logging,
    flush_logs,
    get_logger,
    log_performance,
    log_trade,
    logging_stats,
    register_secrets,
    shutdown_logging,
)
from stockyard.obs._metrics import metrics_registry
from stockyard.obs._readiness import builtin_checks
from stockyard.obs._redact import REDACTED, Redactor

__all__ = [
    "COMPONENTS",
    "REDACTED",
    "CheckFunction",
    "CheckOutcome",
    "CheckResult",
    "CheckStatus",
    "DoctorCheck",
    "DoctorRegistry",
    "DoctorReport",
    "Logger",
    "Redactor",
    "bind_context",
    "builtin_checks",
    "configure_logging",
    "flush_logs",
    "get_logger",
    "log_performance",
    "log_trade",
    "logging_stats",
    "metrics_registry",
    "register_secrets",
    "shutdown_logging",
]
