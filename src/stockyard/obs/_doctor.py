"""The system-readiness test behind ``stockyard doctor``: a registry of checks.

Each check is a plain function of the settings that returns a ``CheckResult``. Layers add
their own checks with ``DoctorRegistry.add``; the CLI composes the registry it runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from stockyard.config import Settings

__all__ = [
    "CheckFunction",
    "CheckOutcome",
    "CheckResult",
    "CheckStatus",
    "DoctorCheck",
    "DoctorRegistry",
    "DoctorReport",
]


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # not configured, so not required (e.g. Redis when no host is set)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check found. ``observed`` holds measured values (JSON-serialisable)."""

    status: CheckStatus
    detail: str
    observed: dict[str, Any] = field(default_factory=dict)


CheckFunction = Callable[[Settings], CheckResult]


@dataclass(frozen=True, slots=True)
class DoctorCheck:
    name: str
    function: CheckFunction
    required: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    name: str
    required: bool
    status: CheckStatus
    detail: str
    observed: dict[str, Any]
    duration_ms: float


@dataclass(frozen=True, slots=True)
class DoctorReport:
    started_at: datetime
    outcomes: tuple[CheckOutcome, ...]

    @property
    def ok(self) -> bool:
        """True when no required check failed."""
        return not self.failed

    @property
    def failed(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.required and o.status is CheckStatus.FAIL]

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "ok": self.ok,
            "failed": [o.name for o in self.failed],
            "checks": [{**asdict(o), "status": o.status.value} for o in self.outcomes],
        }

    def write(self, directory: Path) -> Path:
        """Write ``integration_test_report_<UTC timestamp>.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.strftime("%Y%m%dT%H%M%S%fZ")
        path = directory / f"integration_test_report_{stamp}.json"
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return path


class DoctorRegistry:
    """Named checks, run in the order they were added."""

    def __init__(self, checks: Iterable[DoctorCheck] = ()) -> None:
        self._checks: dict[str, DoctorCheck] = {}
        for check in checks:
            self.add(check)

    def add(self, check: DoctorCheck) -> None:
        if check.name in self._checks:
            raise ValueError(f"doctor check {check.name!r} is already registered")
        self._checks[check.name] = check

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    def run(self, settings: Settings) -> DoctorReport:
        started = datetime.now(UTC)
        outcomes = [self._run_one(check, settings) for check in self._checks.values()]
        return DoctorReport(started_at=started, outcomes=tuple(outcomes))

    @staticmethod
    def _run_one(check: DoctorCheck, settings: Settings) -> CheckOutcome:
        begin = time.perf_counter()
        try:
            result = check.function(settings)
        except Exception as exc:  # a crashing check is a failed check, not a crashed doctor
            result = CheckResult(CheckStatus.FAIL, f"check raised {type(exc).__name__}: {exc}")
        return CheckOutcome(
            name=check.name,
            required=check.required,
            status=result.status,
            detail=result.detail,
            observed=result.observed,
            duration_ms=round((time.perf_counter() - begin) * 1000, 3),
        )
