"""The values of health checking: a status, what one check observed, and a whole report.

The JSON shape follows the IETF "Health Check Response Format for HTTP APIs" draft
(``application/health+json``): ``checks`` is keyed ``component:measurement`` and each key
holds a list of ``{componentId, componentType, observedValue, observedUnit, status, time,
output}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "CheckFunction",
    "CheckReport",
    "HealthCheck",
    "HealthReport",
    "HealthStatus",
    "Observation",
    "ObservedValue",
]

ObservedValue = float | int | str | bool | None


class HealthStatus(StrEnum):
    """pass, warn or fail: the three words of the IETF draft, ordered by badness."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        """0 for pass, 1 for warn, 2 for fail (also the Prometheus gauge value)."""
        return _RANK[self]

    @classmethod
    def worst(cls, statuses: Sequence[HealthStatus]) -> HealthStatus:
        """The worst of ``statuses``; pass when there are none."""
        return max(statuses, key=lambda s: _RANK[s], default=cls.PASS)


_RANK = {HealthStatus.PASS: 0, HealthStatus.WARN: 1, HealthStatus.FAIL: 2}


@dataclass(frozen=True, slots=True)
class Observation:
    """What a check found about one thing: a status, a measured value and a short text.

    ``component_id`` names the instance when one check observes several (a breaker each).
    """

    status: HealthStatus
    value: ObservedValue = None
    unit: str | None = None
    output: str = ""
    component_id: str | None = None

    @classmethod
    def passed(
        cls, output: str = "", *, value: ObservedValue = None, unit: str | None = None
    ) -> Observation:
        """A passing observation."""
        return cls(HealthStatus.PASS, value, unit, output)

    @classmethod
    def warned(
        cls, output: str, *, value: ObservedValue = None, unit: str | None = None
    ) -> Observation:
        """A warning observation."""
        return cls(HealthStatus.WARN, value, unit, output)

    @classmethod
    def failed(
        cls, output: str, *, value: ObservedValue = None, unit: str | None = None
    ) -> Observation:
        """A failing observation."""
        return cls(HealthStatus.FAIL, value, unit, output)


CheckFunction = Callable[
    [], Observation | Sequence[Observation] | Awaitable[Observation | Sequence[Observation]]
]
"""A check: a sync or async callable of no arguments returning one or more observations."""


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """A named check: ``component:measurement`` is its key in the report.

    ``required`` checks decide readiness and the overall status; an optional check that
    fails makes the whole ``warn`` at most (a GPU, say). ``timeout`` overrides the runner's.
    """

    component: str
    measurement: str
    function: CheckFunction
    component_type: str = "component"
    required: bool = True
    timeout: float | None = None
    description: str = ""

    @property
    def key(self) -> str:
        """``component:measurement``."""
        return f"{self.component}:{self.measurement}"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One run of one check."""

    key: str
    component: str
    component_type: str
    required: bool
    observations: tuple[Observation, ...]
    time: datetime
    duration_ms: float

    @property
    def status(self) -> HealthStatus:
        """The worst status among the observations."""
        return HealthStatus.worst([o.status for o in self.observations])

    def to_ietf(self) -> list[dict[str, object]]:
        """The IETF list for this check's key."""
        stamp = self.time.isoformat()
        entries: list[dict[str, object]] = []
        for o in self.observations:
            entry: dict[str, object] = {
                "componentId": o.component_id or self.component,
                "componentType": self.component_type,
                "status": o.status.value,
                "time": stamp,
            }
            if o.value is not None:
                entry["observedValue"] = o.value
            if o.unit is not None:
                entry["observedUnit"] = o.unit
            if o.output:
                entry["output"] = o.output
            entry["required"] = self.required
            entry["durationMs"] = self.duration_ms
            entries.append(entry)
        return entries


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One cycle: every check's latest report, and when the cycle finished."""

    checks: Mapping[str, CheckReport]
    time: datetime
    duration_ms: float
    cycle: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def status(self) -> HealthStatus:
        """fail when a required check fails; warn when anything else is not pass."""
        worst = HealthStatus.PASS
        for report in self.checks.values():
            status = report.status
            if status is HealthStatus.FAIL and not report.required:
                status = HealthStatus.WARN
            if status.rank > worst.rank:
                worst = status
        return worst

    @property
    def components(self) -> list[str]:
        """Component names, sorted, each once."""
        return sorted({r.component for r in self.checks.values()})

    def to_ietf(self, *, version: str, service_id: str, description: str = "") -> dict[str, object]:
        """The ``application/health+json`` body."""
        body: dict[str, object] = {
            "status": self.status.value,
            "version": version,
            "serviceId": service_id,
        }
        if description:
            body["description"] = description
        body["time"] = self.time.isoformat()
        body["checks"] = {key: r.to_ietf() for key, r in sorted(self.checks.items())}
        if self.notes:
            body["notes"] = list(self.notes)
        return body
