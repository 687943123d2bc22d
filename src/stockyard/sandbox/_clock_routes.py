"""Clock and calendar v3 (``/v3/clock``, ``/v3/calendar/{market}``): NYSE's sessions with
their pre-market (4:00) and after-hours (until 20:00) phases, in New York time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.data import MarketCalendar
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._http import json_response, query_datetime
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._wire import settlement_date

__all__ = ["clock_routes"]

_NEW_YORK = ZoneInfo("America/New_York")
_US_EQUITIES = {
    "NYSE": {"acronym": "NYSE", "mic": "XNYS", "name": "New York Stock Exchange"},
    "NASDAQ": {"acronym": "NASDAQ", "mic": "XNAS", "name": "Nasdaq"},
}
_ALIASES = {"XNYS": "NYSE", "XNAS": "NASDAQ", "NYSE": "NYSE", "NASDAQ": "NASDAQ"}


def _market(code: str) -> dict[str, str]:
    name = _ALIASES.get(code.strip().upper())
    if name is None:
        known = ", ".join(sorted(_ALIASES))
        raise SandboxHTTPError(400, f"unsupported market {code!r}: the sandbox knows {known}")
    return {**_US_EQUITIES[name], "timezone": "America/New_York"}


def _local(at: datetime) -> str:
    return at.astimezone(_NEW_YORK).isoformat()


def _phases(day: date, opened: datetime, closed: datetime) -> list[tuple[str, datetime, datetime]]:
    pre = datetime.combine(day, time(4), _NEW_YORK).astimezone(UTC)
    post = datetime.combine(day, time(20), _NEW_YORK).astimezone(UTC)
    return [("pre", pre, opened), ("core", opened, closed), ("post", closed, post)]


def _clock(calendar: MarketCalendar, now: datetime, market: dict[str, str]) -> dict[str, object]:
    today = now.astimezone(_NEW_YORK).date()
    sessions = calendar.sessions(today, today)
    phase, until = "closed", None
    for name, lo, hi in _phases(*sessions[0]) if sessions else []:
        if lo <= now < hi:
            phase, until = name, hi
    if until is None:
        ahead = calendar.sessions(today, today + timedelta(days=10))
        starts = [p[1] for s in ahead for p in _phases(*s)[:1] if p[1] > now]
        until = starts[0] if starts else calendar.next_open(now)
    return {
        "market": market,
        "timestamp": _local(now),
        "is_market_day": bool(sessions),
        "next_market_open": _local(calendar.next_open(now)),
        "next_market_close": _local(calendar.next_close(now)),
        "phase": phase,
        "phase_until": _local(until),
    }


async def get_clock_v3(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    now = query_datetime(request, "time") or sandbox.clock.now()
    if not 2000 <= now.year < 2100:
        raise SandboxHTTPError(400, "time must be between 2000 and 2099 (the calendar's range)")
    codes = (request.query_params.get("markets") or "NYSE").split(",")
    markets = [_market(c) for c in codes if c.strip()]
    return json_response({"clocks": [_clock(sandbox.calendar, now, m) for m in markets]})


def _day(request: Request, name: str, default: date) -> date:
    text = request.query_params.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SandboxHTTPError(400, f"{name} must be a date (YYYY-MM-DD), got {text!r}") from None


async def get_calendar_v3(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    market = _market(request.path_params["market"])
    start = _day(request, "start", sandbox.clock.now().date())
    end = _day(request, "end", start + timedelta(days=7))
    if end < start:
        raise SandboxHTTPError(400, "end must not be before start")
    if (end - start).days > 3660:
        raise SandboxHTTPError(400, "the calendar range is limited to ten years")
    days = []
    for day, opened, closed in sandbox.calendar.sessions(start, end):
        (_, pre_start, _), _, (_, _, post_end) = _phases(day, opened, closed)
        days.append({
            "date": day.isoformat(),
            "pre_start": _local(pre_start),
            "pre_end": _local(opened),
            "core_start": _local(opened),
            "core_end": _local(closed),
            "post_start": _local(closed),
            "post_end": _local(post_end),
            "settlement_date": settlement_date(sandbox.calendar, day).isoformat(),
        })  # fmt: skip
    return json_response({"market": market, "calendar": days})


def clock_routes() -> list[Route]:
    return [
        Route("/v3/clock", get_clock_v3, methods=["GET"]),
        Route("/v3/calendar/{market}", get_calendar_v3, methods=["GET"]),
    ]
