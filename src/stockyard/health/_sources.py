"""Health from other parts of the system: each trading node's checks, errors, breakers and
metrics, merged by the hub into its own report under the part's name (``node@sandbox``).

A ``HealthSource`` answers one ``SourceReport`` per cycle: a node of this process directly
(its errors, breakers and metrics are this process's already: ``shared``), a node process
over its Unix socket (they are its own, merged here naming the process).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from stockyard.health._model import CheckReport, HealthStatus, Observation

__all__ = [
    "HealthSource",
    "SourceReport",
    "checks_from_ietf",
    "merge_errors",
    "merged_families",
    "unreachable",
]


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One part's health now: its checks (keys start with its name), its error registry's
    snapshot, its breakers' snapshots by name and its Prometheus text. ``shared``: the part
    runs in this process, so its errors, breakers and metrics are this process's own (its
    breakers are still named here, to say whose they are)."""

    checks: Mapping[str, CheckReport]
    errors: Mapping[str, object] | None = None
    breakers: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    metrics: str | None = None
    shared: bool = False


class HealthSource(Protocol):
    """A part of the system whose health the hub merges (a trading node)."""

    name: str

    async def collect(self) -> SourceReport:
        """Run the part's checks now and answer its report; raise when it cannot answer."""
        ...

    async def reset_breaker(self, name: str) -> Mapping[str, object] | None:
        """Close one of its breakers by hand; None when it has none of that name."""
        ...


def unreachable(name: str, reason: str, *, at: datetime) -> SourceReport:
    """The report of a part that did not answer: one failed check, ``NAME:reachable``."""
    key = f"{name}:reachable"
    check = CheckReport(
        key=key,
        component=name,
        component_type="component",
        required=True,
        observations=(Observation.failed(f"{name} did not answer: {reason}"),),
        time=at,
        duration_ms=0.0,
    )
    return SourceReport(checks={key: check})


def checks_from_ietf(
    body: Mapping[str, Sequence[Mapping[str, object]]], *, at: datetime
) -> dict[str, CheckReport]:
    """``CheckReport``s again from the ``checks`` of an ``application/health+json`` body."""
    out: dict[str, CheckReport] = {}
    for key, entries in body.items():
        if not entries:
            continue
        first = entries[0]
        component = key.rsplit(":", 1)[0] if ":" in key else key
        observations = []
        for entry in entries:
            value = entry.get("observedValue")
            unit = entry.get("observedUnit")
            ident = entry.get("componentId")
            observations.append(
                Observation(
                    HealthStatus(str(entry.get("status", "fail"))),
                    value if isinstance(value, int | float | str | bool) else None,
                    None if unit is None else str(unit),
                    str(entry.get("output", "")),
                    None if ident is None or ident == component else str(ident),
                )
            )
        stamp = first.get("time")
        duration = first.get("durationMs", 0.0)
        out[key] = CheckReport(
            key=key,
            component=component,
            component_type=str(first.get("componentType", "component")),
            required=bool(first.get("required", True)),
            observations=tuple(observations),
            time=datetime.fromisoformat(stamp) if isinstance(stamp, str) else at,
            duration_ms=float(duration) if isinstance(duration, int | float) else 0.0,
        )
    return out


def merge_errors(
    own: Mapping[str, object], process: str, others: Mapping[str, Mapping[str, object]]
) -> dict[str, object]:
    """One error snapshot of the system: counts summed over the processes, recent errors and
    top fingerprints each tagged with the process they happened in, and every other
    process's own snapshot under ``processes``."""
    snapshots = {process: own, **others}
    total = 0
    by_category: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    recent: list[dict[str, object]] = []
    top: list[dict[str, object]] = []
    for name, snap in snapshots.items():
        count = snap.get("total", 0)
        total += count if isinstance(count, int) else 0
        _add_counts(by_category, snap.get("by_category"))
        _add_counts(by_severity, snap.get("by_severity"))
        recent += [{**r, "process": name} for r in _records(snap.get("recent"))]
        top += [{**r, "process": name} for r in _records(snap.get("top_errors"))]
    recent.sort(key=lambda r: str(r.get("at", "")))
    top.sort(key=lambda r: -_int(r.get("count")))
    return {
        **own,
        "total": total,
        "by_category": by_category,
        "by_severity": by_severity,
        "top_errors": top[:10],
        "recent": recent[-200:],
        "processes": dict(others),
    }


def _add_counts(into: dict[str, int], counts: object) -> None:
    if isinstance(counts, Mapping):
        for key, value in counts.items():
            into[str(key)] = into.get(str(key), 0) + _int(value)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _records(rows: object) -> Iterator[Mapping[str, object]]:
    if isinstance(rows, list):
        yield from (r for r in rows if isinstance(r, Mapping))


def merged_families(own: Iterable[Metric], others: Mapping[str, str]) -> list[Metric]:
    """This process's metric families, with every other process's (Prometheus text) merged
    in by family name, each of their samples labelled ``process``: one family per name, as
    the exposition format requires."""
    families: dict[str, Metric] = {}
    for family in own:
        families[family.name] = family
    for process, text in others.items():
        for family in text_string_to_metric_families(text):
            samples = [
                Sample(s.name, {**s.labels, "process": process}, s.value, s.timestamp, s.exemplar)
                for s in family.samples
            ]
            mine = families.get(family.name)
            if mine is None:
                mine = families[family.name] = Metric(
                    family.name, family.documentation, family.type, family.unit
                )
            elif mine.type != family.type:
                continue  # the same name with another type: not mergeable, ours wins
            mine.samples = [*mine.samples, *samples]
    return list(families.values())
