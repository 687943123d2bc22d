"""What each live panel shows: one loader per panel, each a thin read of a service.

A loader gets the services and the viewer's session and returns its template's context;
nothing here computes a figure of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool

from stockyard.dashboard._session import Session
from stockyard.services import EQUITY_SPANS, ServiceError, Services

__all__ = ["OPEN_STATES", "PANELS", "Panel", "Sources", "panel_context"]

OPEN_STATES = frozenset(
    {"new", "accepted", "pending_new", "partially_filled", "held", "pending_replace", None}
)


@dataclass(frozen=True, slots=True)
class Sources:
    """What the panels read: the services (the processes through ``services.processes``,
    when the system runs under supervisord)."""

    services: Services


Loader = Callable[[Sources, Session, dict[str, str]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Panel:
    """A live panel: its partial template, the loader of its context, and whether it needs
    a trading node (panels of the books are left out of a hub without one)."""

    template: str
    load: Loader
    needs_node: bool = False
    needs_supervisor: bool = False


async def _health(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    health = services.system.health_service
    report = health.report
    components: list[dict[str, Any]] = []
    if report is not None:
        for name in report.components:
            observations = [
                {
                    "measurement": c.key.split(":", 1)[-1],
                    "value": o.value,
                    "unit": o.unit,
                    "output": o.output,
                }
                for c in report.checks.values()
                if c.component == name
                for o in c.observations
            ]
            status = health.component(name) or {}
            components.append(
                {"name": name, "status": status.get("status", "warn"), "observations": observations}
            )
    return {
        "health": {
            "status": health.status().value,
            "time": report.time if report else None,
            "cycle": report.cycle if report else 0,
            "duration_ms": report.duration_ms if report else 0.0,
            "components": components,
        }
    }


async def _alerts(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    return {"alerts": await services.system.alerts(limit=50)}


def _pairs(mapping: object) -> list[tuple[str, object]]:
    if not isinstance(mapping, dict):
        return []
    return sorted((str(k), v) for k, v in mapping.items() if v)


async def _errors(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    snapshot = services.system.errors()
    recent = snapshot.get("recent", [])
    return {
        "errors": {
            "by_category": _pairs(snapshot.get("by_category")),
            "by_severity": _pairs(snapshot.get("by_severity")),
            "top": snapshot.get("top_errors", []),
            "recent": list(reversed(recent))[:50] if isinstance(recent, list) else [],
        }
    }


async def _breakers(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    breakers = [
        {"name": name, "state": b.get("state"), "failures": b.get("failures_in_window")}
        for name, b in services.system.breakers().items()
    ]
    return {"breakers": breakers}


async def _catalog(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    data = src.services.data
    gaps = await run_in_threadpool(data.gaps)
    fetches = [j for j in src.services.research.jobs() if j.kind == "fetch"]
    return {
        "catalog": data.catalog(),
        "gaps": {(g.symbol, g.timeframe): g for g in gaps},
        "fetches": fetches,
    }


async def _account(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    return {"account": await services.trading.account()}


async def _equity(src: Sources, _s: Session, query: dict[str, str]) -> dict[str, Any]:
    span = query.get("span", "day")
    if span not in EQUITY_SPANS:
        span = "day"
    curve = await src.services.trading.equity_curve(span)
    points = [{"time": p.time.isoformat(), "equity": float(p.equity)} for p in curve.points]
    first = curve.points[0] if curve.points else None
    last = curve.points[-1] if curve.points else None
    change = None if first is None or last is None else last.equity - first.equity
    return {
        "equity_curve": curve,
        "equity_span": span,
        "equity_spans": list(EQUITY_SPANS),
        "equity_points": points,
        "equity_first": first,
        "equity_last": last,
        "equity_change": change,
    }


async def _positions(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    return {"positions": (await services.trading.positions()).positions}


async def _orders(src: Sources, _s: Session, query: dict[str, str]) -> dict[str, Any]:
    services = src.services
    status = "all" if query.get("status") == "all" else "open"
    found = await services.trading.orders(open_only=status == "open", limit=100)
    return {"orders": found.orders, "status": status, "open_states": OPEN_STATES}


async def _fills(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    fills = (await services.trading.fills(limit=100)).fills
    return {"fills": list(reversed(fills))}


async def _pnl(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    return {"pnl": await services.trading.pnl()}


async def _bots(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    bots = (await services.trading.bots()).bots
    pnl = {line.name: line for line in (await services.trading.pnl()).by_bot}
    return {"bots": bots, "bot_pnl": pnl}


async def _runs(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    services = src.services
    return {"runs": list(reversed(services.research.runs())), "jobs": services.research.jobs()}


async def _compare(src: Sources, _s: Session, query: dict[str, str]) -> dict[str, Any]:
    research = src.services.research
    chosen = [i for i in query.get("runs", "").split(",") if i]
    found, problem = None, ""
    if chosen:
        try:
            found = research.compare_runs(chosen)
        except ServiceError as exc:
            problem = exc.message
    runs = list(reversed(research.runs()))
    return {"compare_runs": runs, "compared": found, "chosen": chosen, "compare_problem": problem}


async def _processes(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    processes = src.services.processes
    if not processes.supervised:
        return {"processes": [], "processes_down": ""}
    try:
        found = await processes.processes()
    except ServiceError as exc:  # supervisord not answering: say so, show no table
        return {"processes": [], "processes_down": exc.message, "resources": {}}
    history = {
        name: [s.model_dump(mode="json") for s in samples]
        for name, samples in processes.history().items()
    }
    return {"processes": found, "processes_down": "", "resources": history}


# The topics the rates panel shows: (topic, where its events come from, unit).
_RATE_TOPICS = (
    ("bars", "feed (market data)", "bars"),
    ("quotes", "feed (market data)", "quotes"),
    ("trades", "feed (market data)", "trades"),
    ("orders", "bus (executions)", "order updates"),
    ("fills", "bus (executions)", "fills"),
    ("jobs", "hub (research jobs)", "job updates"),
    ("processes", "hub (process sampler)", "process updates"),
)


async def _rates(src: Sources, _s: Session, _q: dict[str, str]) -> dict[str, Any]:
    rates = src.services.events.rates()
    rows = [(t, where, unit, rates[t]) for t, where, unit in _RATE_TOPICS]
    nodes = await src.services.trading.statuses()
    window = next(iter(rates.values())).window_s
    return {"rates": rows, "rates_window_s": window, "node_statuses": nodes}


PANELS: dict[str, Panel] = {
    "health": Panel("partials/health.html", _health),
    "alerts": Panel("partials/alerts.html", _alerts),
    "errors": Panel("partials/errors.html", _errors),
    "breakers": Panel("partials/breakers.html", _breakers),
    "catalog": Panel("partials/catalog.html", _catalog),
    "account": Panel("partials/account.html", _account, needs_node=True),
    "kill": Panel("partials/kill.html", _account, needs_node=True),
    "positions": Panel("partials/positions.html", _positions, needs_node=True),
    "equity": Panel("partials/equity.html", _equity, needs_node=True),
    "orders": Panel("partials/orders.html", _orders, needs_node=True),
    "fills": Panel("partials/fills.html", _fills, needs_node=True),
    "pnl": Panel("partials/pnl.html", _pnl, needs_node=True),
    "bots": Panel("partials/bots.html", _bots, needs_node=True),
    "runs": Panel("partials/runs.html", _runs),
    "compare": Panel("partials/compare.html", _compare),
    "processes": Panel("partials/processes.html", _processes, needs_supervisor=True),
    "rates": Panel("partials/rates.html", _rates),
}


async def panel_context(
    src: Sources,
    session: Session,
    names: list[str],
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The merged context of ``names``' panels (each loaded once), with ``now`` and what
    the session may do (``may_trade``, ``may_admin``)."""
    context: dict[str, Any] = {
        "now": datetime.now(UTC),
        "session": session,
        "may_trade": session.may("trade"),
        "may_admin": session.may("admin"),
        "can_ack": session.may("trade"),
    }
    for name in names:
        context.update(await PANELS[name].load(src, session, query or {}))
    return context
