"""What each live panel shows: one loader per panel, each a thin read of a service.

A loader returns the template's context; nothing here computes a figure of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stockyard.data import ParquetStore
from stockyard.obs.health import HealthService

__all__ = ["PANELS", "DashboardServices", "Panel", "panel_context"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardServices:
    """The services the dashboard reads and drives: health (checks, alerts, errors,
    breakers) and the data catalog; each tab shows what its services offer."""

    health: HealthService
    catalog: ParquetStore | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


Loader = Callable[[DashboardServices], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Panel:
    """A live panel: its partial template and the loader of its context."""

    template: str
    load: Loader


async def _health(services: DashboardServices) -> dict[str, Any]:
    report = services.health.report
    components: list[dict[str, Any]] = []
    if report is not None:
        for name in report.components:
            checks = [c for c in report.checks.values() if c.component == name]
            observations = [
                {
                    "measurement": c.key.split(":", 1)[-1],
                    "value": o.value,
                    "unit": o.unit,
                    "output": o.output,
                }
                for c in checks
                for o in c.observations
            ]
            status = services.health.component(name) or {}
            components.append(
                {"name": name, "status": status.get("status", "warn"), "observations": observations}
            )
    health = {
        "status": services.health.status().value,
        "time": report.time if report else None,
        "cycle": report.cycle if report else 0,
        "duration_ms": report.duration_ms if report else 0.0,
        "components": components,
    }
    return {"health": health}


async def _alerts(services: DashboardServices) -> dict[str, Any]:
    alerts = await asyncio.to_thread(services.health.alerts, limit=50)
    return {"alerts": alerts}


def _pairs(mapping: object) -> list[tuple[str, object]]:
    if not isinstance(mapping, dict):
        return []
    return sorted(((str(k), v) for k, v in mapping.items() if v), key=lambda kv: str(kv[0]))


async def _errors(services: DashboardServices) -> dict[str, Any]:
    snapshot = services.health.errors()
    recent = snapshot.get("recent", [])
    errors = {
        "by_category": _pairs(snapshot.get("by_category")),
        "by_severity": _pairs(snapshot.get("by_severity")),
        "recent": list(reversed(recent))[:50] if isinstance(recent, list) else [],
    }
    return {"errors": errors}


async def _breakers(services: DashboardServices) -> dict[str, Any]:
    snapshot = services.health.breakers.snapshot()
    breakers = [
        {"name": name, "state": b.get("state"), "failures": b.get("failures_in_window")}
        for name, b in snapshot.items()
    ]
    return {"breakers": breakers}


async def _catalog(services: DashboardServices) -> dict[str, Any]:
    store = services.catalog
    entries = [] if store is None else await asyncio.to_thread(store.catalog)
    rows = [
        {
            "symbol": e.symbol,
            "asset_class": e.asset_class.value,
            "timeframe": str(e.timeframe),
            "start": e.start,
            "end": e.end,
            "rows": e.rows,
            "bytes": e.bytes,
        }
        for e in entries
    ]
    return {"catalog": rows}


PANELS: dict[str, Panel] = {
    "health": Panel("partials/health.html", _health),
    "alerts": Panel("partials/alerts.html", _alerts),
    "errors": Panel("partials/errors.html", _errors),
    "breakers": Panel("partials/breakers.html", _breakers),
    "catalog": Panel("partials/catalog.html", _catalog),
}


async def panel_context(services: DashboardServices, names: list[str]) -> dict[str, Any]:
    """The merged context of ``names``' panels (each loaded once), plus ``now``."""
    context: dict[str, Any] = {"now": datetime.now(UTC)}
    for name in names:
        context.update(await PANELS[name].load(services))
    return context
