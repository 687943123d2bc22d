"""Alert rules over health reports, and the engine that raises and resolves alerts.

A rule matches checks by key (``fnmatch`` pattern over ``component:measurement``) and holds
when an observation's status reaches ``status`` or, with a ``threshold``, when its value
compares true. It must hold for ``for_s`` seconds before an alert is raised; one alert per
rule and subject (de-duplication); it resolves on the first evaluation where the rule no
longer holds; after an alert is raised, the same rule and subject stay quiet for
``cooldown_s`` (flapping). Time comes from an injected clock.
"""

from __future__ import annotations

import fnmatch
import operator
import tomllib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from stockyard.core import Clock, WallClock
from stockyard.health._model import HealthReport, HealthStatus, Observation, ObservedValue

__all__ = [
    "Alert",
    "AlertEngine",
    "AlertEvent",
    "AlertRule",
    "AlertSeverity",
    "AlertState",
    "default_rules",
    "load_rules",
    "merge_rules",
]


class AlertSeverity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertState(StrEnum):
    """An alert is firing until it resolves."""

    FIRING = "firing"
    RESOLVED = "resolved"


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class AlertRule(BaseModel):
    """One rule. Without ``threshold`` it is a status rule, with one a value rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="unique rule name")
    severity: AlertSeverity = AlertSeverity.WARNING
    check: str = Field(default="*", description="fnmatch pattern over component:measurement")
    status: HealthStatus = Field(
        default=HealthStatus.FAIL, description="status rule: holds at this status or worse"
    )
    threshold: float | None = Field(default=None, description="value rule: compare to this")
    op: Literal["<", "<=", ">", ">="] = ">"
    required_only: bool = Field(default=False, description="only checks marked required")
    for_s: float = Field(default=0.0, ge=0, description="seconds the rule must hold first")
    cooldown_s: float = Field(default=300.0, ge=0, description="quiet time after a raise")
    description: str = ""

    def holds(self, observation: Observation) -> bool:
        """Whether this rule holds for ``observation``."""
        if self.threshold is None:
            return observation.status.rank >= self.status.rank
        value = observation.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return _OPS[self.op](float(value), self.threshold)


@dataclass(frozen=True, slots=True)
class Alert:
    """One raised alert; ``subject`` is the check key (``/componentId`` when several)."""

    id: str
    rule: str
    subject: str
    severity: AlertSeverity
    state: AlertState
    summary: str
    value: ObservedValue
    started_at: datetime
    raised_at: datetime
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None

    @property
    def fingerprint(self) -> str:
        """What de-duplicates alerts: rule and subject."""
        return f"{self.rule}|{self.subject}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form (times ISO 8601)."""

        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "id": self.id,
            "rule": self.rule,
            "subject": self.subject,
            "severity": self.severity.value,
            "state": self.state.value,
            "summary": self.summary,
            "value": self.value,
            "started_at": iso(self.started_at),
            "raised_at": iso(self.raised_at),
            "resolved_at": iso(self.resolved_at),
            "acknowledged_at": iso(self.acknowledged_at),
        }


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A change to hand to the store and the notifiers."""

    kind: Literal["raised", "resolved"]
    alert: Alert


@dataclass(slots=True)
class _Track:
    pending_since: datetime | None = None
    firing: Alert | None = None
    last_raised: datetime | None = None


def _summary(rule: AlertRule, subject: str, observation: Observation) -> str:
    if rule.threshold is None:
        text = f"{subject} is {observation.status.value}"
    else:
        unit = f" {observation.unit}" if observation.unit else ""
        text = f"{subject} = {observation.value}{unit} ({rule.op} {rule.threshold:g})"
    if observation.output:
        text += f": {observation.output}"
    return f"[{rule.name}] {text}"


class AlertEngine:
    """Evaluates rules against each report and returns what was raised or resolved."""

    def __init__(self, rules: Iterable[AlertRule], *, clock: Clock | None = None) -> None:
        self.rules = list(rules)
        names = [r.name for r in self.rules]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"alert rule names must be unique: {', '.join(duplicated)}")
        self._clock = clock if clock is not None else WallClock()
        self._tracks: dict[str, _Track] = {}

    def evaluate(self, report: HealthReport) -> list[AlertEvent]:
        """Raise what newly holds long enough, resolve what no longer holds."""
        now = self._clock.now()
        events: list[AlertEvent] = []
        holding: set[str] = set()
        for rule in self.rules:
            for key, check in sorted(report.checks.items()):
                if rule.required_only and not check.required:
                    continue
                if not fnmatch.fnmatchcase(key, rule.check):
                    continue
                for observation in check.observations:
                    if not rule.holds(observation):
                        continue
                    subject = key
                    if observation.component_id and observation.component_id != check.component:
                        subject = f"{key}/{observation.component_id}"
                    fingerprint = f"{rule.name}|{subject}"
                    holding.add(fingerprint)
                    event = self._holds(rule, subject, observation, now)
                    if event is not None:
                        events.append(event)
        for fingerprint, track in self._tracks.items():
            if fingerprint in holding:
                continue
            track.pending_since = None
            if track.firing is not None:
                resolved = replace(track.firing, state=AlertState.RESOLVED, resolved_at=now)
                track.firing = None
                events.append(AlertEvent("resolved", resolved))
        return events

    def _holds(
        self, rule: AlertRule, subject: str, observation: Observation, now: datetime
    ) -> AlertEvent | None:
        track = self._tracks.setdefault(f"{rule.name}|{subject}", _Track())
        if track.pending_since is None:
            track.pending_since = now
        if track.firing is not None:
            return None  # de-duplicated: already raised
        if (now - track.pending_since).total_seconds() < rule.for_s:
            return None
        if track.last_raised is not None and (
            (now - track.last_raised).total_seconds() < rule.cooldown_s
        ):
            return None
        alert = Alert(
            id=uuid.uuid4().hex,
            rule=rule.name,
            subject=subject,
            severity=rule.severity,
            state=AlertState.FIRING,
            summary=_summary(rule, subject, observation),
            value=observation.value,
            started_at=track.pending_since,
            raised_at=now,
        )
        track.firing, track.last_raised = alert, now
        return AlertEvent("raised", alert)

    def firing(self) -> list[Alert]:
        """The alerts firing now."""
        return [t.firing for t in self._tracks.values() if t.firing is not None]

    def acknowledge(self, alert_id: str, at: datetime) -> Alert | None:
        """Mark a firing alert acknowledged; None when no firing alert has this id."""
        for track in self._tracks.values():
            if track.firing is not None and track.firing.id == alert_id:
                track.firing = replace(track.firing, acknowledged_at=at)
                return track.firing
        return None


_GIB = 1024**3


def default_rules() -> list[AlertRule]:
    """The rules every install starts with."""
    return [
        AlertRule(
            name="required-check-failing",
            severity=AlertSeverity.CRITICAL,
            required_only=True,
            description="a required check failed (one interval is enough)",
        ),
        AlertRule(
            name="disk-low",
            check="disk:free",
            threshold=float(_GIB),
            op="<",
            description="less than 1 GiB free under home",
        ),
        AlertRule(
            name="breaker-open",
            check="*breakers*",  # this process's (breakers:state) and each node's
            status=HealthStatus.WARN,
            description="a circuit breaker is open or half-open (a node's too)",
        ),
        AlertRule(
            name="memory-high",
            check="memory:utilization",
            threshold=90.0,
            for_s=300.0,
            description="memory above 90% for 5 minutes",
        ),
        AlertRule(
            name="log-errors",
            check="logging:errorRate",
            threshold=10.0,
            for_s=300.0,
            description="more than 10 errors logged a minute for 5 minutes",
        ),
    ]


_RULES = TypeAdapter(list[AlertRule])


def load_rules(path: Path) -> list[AlertRule]:
    """Rules from a TOML file of ``[[rules]]`` tables; ValueError names the bad rule."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read alert rules {path}: {exc}") from None
    unknown = sorted(set(raw) - {"rules"})
    if unknown:
        raise ValueError(f"alert rules {path}: unknown top-level key {unknown[0]!r}")
    try:
        return _RULES.validate_python(raw.get("rules", []))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ValueError(f"alert rules {path}: rules.{where}: {error['msg']}") from None


def merge_rules(base: Sequence[AlertRule], extra: Sequence[AlertRule]) -> list[AlertRule]:
    """``base`` with rules of the same name replaced by ``extra``'s, new ones appended."""
    by_name = {r.name: r for r in base}
    by_name.update({r.name: r for r in extra})
    return list(by_name.values())
