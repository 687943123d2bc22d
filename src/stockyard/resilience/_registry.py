"""The error registry: counts, fingerprints and recent history of handled errors."""

from __future__ import annotations

import re
import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stockyard.core import Clock, WallClock
from stockyard.resilience._errors import ErrorCategory, Severity, classify

__all__ = [
    "ErrorRecord",
    "ErrorRegistry",
    "ErrorSummary",
    "RecoveryOutcome",
    "RecoveryRecord",
    "default_error_registry",
    "fingerprint",
]

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b", re.I)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.I)


def _normalise(message: str) -> str:
    message = _UUID.sub("<uuid>", message)
    message = _HEX.sub(lambda m: "<hex>" if len(m.group()) >= 6 else m.group(), message)
    return _NUMBER.sub("<n>", message)


def fingerprint(exc: BaseException) -> str:
    """``category:ExceptionType:message`` with numbers, hex strings and uuids normalised."""
    return _fingerprint(exc, classify(exc).category)


def _fingerprint(exc: BaseException, category: ErrorCategory) -> str:
    return f"{category.value}:{type(exc).__qualname__}:{_normalise(str(exc))}"


class RecoveryOutcome(StrEnum):
    """What one recovery action achieved."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the action ran and reported that it did not recover
    ERRORED = "errored"  # the action itself raised


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """One handled error, as recorded."""

    fingerprint: str
    component: str
    category: ErrorCategory
    severity: Severity
    retryable: bool
    error_type: str
    message: str
    at: datetime

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "fingerprint": self.fingerprint,
            "component": self.component,
            "category": self.category.value,
            "severity": self.severity.value,
            "retryable": self.retryable,
            "error_type": self.error_type,
            "message": self.message,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """All occurrences of one fingerprint."""

    fingerprint: str
    category: ErrorCategory
    error_type: str
    last_message: str
    count: int
    first_seen: datetime
    last_seen: datetime

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "fingerprint": self.fingerprint,
            "category": self.category.value,
            "error_type": self.error_type,
            "last_message": self.last_message,
            "count": self.count,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RecoveryRecord:
    """One recovery action taken for an error."""

    action: str
    category: ErrorCategory
    outcome: RecoveryOutcome
    error_fingerprint: str
    at: datetime
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "action": self.action,
            "category": self.category.value,
            "outcome": self.outcome.value,
            "error_fingerprint": self.error_fingerprint,
            "at": self.at.isoformat(),
            "detail": self.detail,
        }


class ErrorRegistry:
    """Thread-safe record of every handled error and every recovery action taken.

    Memory is bounded: ``recent`` errors and recovery actions are kept in deques, and at most
    ``max_fingerprints`` summaries are kept (the least recently seen is dropped first).
    """

    def __init__(
        self,
        *,
        recent: int = 200,
        max_fingerprints: int = 1000,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock if clock is not None else WallClock()
        self._max_fingerprints = max_fingerprints
        self._lock = threading.Lock()
        self._total = 0
        self._by_category: Counter[ErrorCategory] = Counter()
        self._by_severity: Counter[Severity] = Counter()
        self._summaries: dict[str, ErrorSummary] = {}
        self._recent: deque[ErrorRecord] = deque(maxlen=recent)
        self._recoveries: deque[RecoveryRecord] = deque(maxlen=recent)
        self._recovery_counts: Counter[RecoveryOutcome] = Counter()

    def record(self, exc: BaseException, *, component: str) -> ErrorRecord:
        """Count one handled error from ``component`` and return its record."""
        error = classify(exc)
        record = ErrorRecord(
            fingerprint=_fingerprint(exc, error.category),
            component=component,
            category=error.category,
            severity=error.severity,
            retryable=error.retryable,
            error_type=type(exc).__qualname__,
            message=str(exc),
            at=self._clock.now(),
        )
        with self._lock:
            self._total += 1
            self._by_category[record.category] += 1
            self._by_severity[record.severity] += 1
            self._recent.append(record)
            previous = self._summaries.pop(record.fingerprint, None)
            self._summaries[record.fingerprint] = ErrorSummary(
                fingerprint=record.fingerprint,
                category=record.category,
                error_type=record.error_type,
                last_message=record.message,
                count=1 if previous is None else previous.count + 1,
                first_seen=record.at if previous is None else previous.first_seen,
                last_seen=record.at,
            )
            if len(self._summaries) > self._max_fingerprints:
                # dicts keep insertion order and we re-insert on every hit: first is stalest.
                del self._summaries[next(iter(self._summaries))]
        return record

    def record_recovery(
        self,
        exc: BaseException,
        *,
        action: str,
        outcome: RecoveryOutcome,
        detail: str = "",
    ) -> RecoveryRecord:
        """Record one recovery action taken for ``exc``."""
        category = classify(exc).category
        record = RecoveryRecord(
            action=action,
            category=category,
            outcome=outcome,
            error_fingerprint=_fingerprint(exc, category),
            at=self._clock.now(),
            detail=detail,
        )
        with self._lock:
            self._recoveries.append(record)
            self._recovery_counts[outcome] += 1
        return record

    @property
    def total(self) -> int:
        """How many errors were recorded."""
        with self._lock:
            return self._total

    def count(
        self, *, category: ErrorCategory | None = None, severity: Severity | None = None
    ) -> int:
        """Errors recorded in ``category`` or with ``severity`` (or all, given neither)."""
        with self._lock:
            if category is not None:
                return self._by_category[category]
            if severity is not None:
                return self._by_severity[severity]
            return self._total

    def top(self, n: int = 10) -> list[ErrorSummary]:
        """The ``n`` most frequent fingerprints, most frequent first."""
        with self._lock:
            summaries = list(self._summaries.values())
        return sorted(summaries, key=lambda s: (-s.count, s.fingerprint))[:n]

    def recent(self) -> list[ErrorRecord]:
        """The most recent errors, oldest first."""
        with self._lock:
            return list(self._recent)

    def recoveries(self) -> list[RecoveryRecord]:
        """The most recent recovery actions, oldest first."""
        with self._lock:
            return list(self._recoveries)

    def snapshot(self, *, top: int = 10) -> dict[str, object]:
        """A JSON-serialisable view for the health API."""
        with self._lock:
            total = self._total
            by_category = {c.value: self._by_category[c] for c in ErrorCategory}
            by_severity = {s.value: self._by_severity[s] for s in Severity}
            recent = [r.to_dict() for r in self._recent]
            recoveries = [r.to_dict() for r in self._recoveries]
            recovery_counts = {o.value: self._recovery_counts[o] for o in RecoveryOutcome}
        return {
            "total": total,
            "by_category": by_category,
            "by_severity": by_severity,
            "top_errors": [s.to_dict() for s in self.top(top)],
            "recent": recent,
            "recovery_actions": {"counts": recovery_counts, "recent": recoveries},
        }

    def clear(self) -> None:
        """Forget everything (for tests and for an operator's reset)."""
        with self._lock:
            self._total = 0
            self._by_category.clear()
            self._by_severity.clear()
            self._summaries.clear()
            self._recent.clear()
            self._recoveries.clear()
            self._recovery_counts.clear()


_default_lock = threading.Lock()
_default: ErrorRegistry | None = None


def default_error_registry() -> ErrorRegistry:
    """The process-wide registry, for code that is not handed one."""
    global _default  # noqa: PLW0603 - a lazily created process-wide default is the point
    with _default_lock:
        if _default is None:
            _default = ErrorRegistry()
        return _default
