"""``/sandbox/...``: reset, set cash, move the clock, step or pace the replay, faults."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._faults import PROFILES, FaultConfig
from stockyard.sandbox._http import account_of, json_body, json_response, parse_time
from stockyard.sandbox._replay import parse_speed
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._wire import rfc3339

__all__ = ["admin_routes"]


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _status(sandbox: Sandbox) -> dict[str, object]:
    speed = sandbox.clock.speed
    return {
        "clock": rfc3339(sandbox.clock.now()),
        "speed": "max" if speed == float("inf") else speed,
        "events": sandbox.events,
        "symbols": list(sandbox.config.symbols),
        "source": sandbox.source.name,
        "replay_ended": sandbox.replay_ended,
        "market_data_connections": sandbox.md_hub.connections,
        "trading_stream_connections": sandbox.trade_hub.connections,
        "faults": sandbox.faults.config.model_dump(mode="json"),
    }


async def status(request: Request) -> Response:
    return json_response(_status(_sandbox(request)))


async def reset(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.reset()
    return json_response(_status(sandbox))


async def set_cash(request: Request) -> Response:
    body = await json_body(request)
    try:
        cash = Decimal(str(body.get("cash")))
    except InvalidOperation:
        raise SandboxHTTPError(422, f"cash must be a number, got {body.get('cash')!r}") from None
    if (
        not cash.is_finite()
        or cash < 0
        or cash > Decimal(10) ** 12
        or isinstance(body.get("cash"), bool)
    ):
        raise SandboxHTTPError(422, f"cash must be a number in [0, 1e12], got {body.get('cash')!r}")
    sandbox = _sandbox(request)
    with sandbox.locked() as ex:
        ex.set_cash(account_of(request), cash)
    sandbox.mark_dirty()
    return json_response({"cash": format(cash, "f")})


async def move_clock(request: Request) -> Response:
    """``{"at": RFC 3339}`` or ``{"seconds": n}``: move forward, releasing due events."""
    body = await json_body(request)
    sandbox = _sandbox(request)
    now = sandbox.clock.now()
    if isinstance(body.get("at"), str):
        target = parse_time("at", str(body["at"]))
    elif isinstance(body.get("seconds"), int | float) and not isinstance(body["seconds"], bool):
        seconds = float(body["seconds"])  # type: ignore[arg-type]
        if not 0 <= seconds <= 366 * 86400:
            raise SandboxHTTPError(422, "seconds must be between 0 and one year")
        target = now + timedelta(seconds=seconds)
    else:
        raise SandboxHTTPError(422, 'give "at" (RFC 3339) or "seconds" (a number)')
    if target < now:
        raise SandboxHTTPError(422, f"the clock only moves forward; it is {rfc3339(now)}")
    released = await sandbox.step_to(target)
    return json_response({**_status(sandbox), "released": released})


async def set_speed(request: Request) -> Response:
    body = await json_body(request)
    value = body.get("speed")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise SandboxHTTPError(422, 'speed must be a number >= 0 or "max"')
    try:
        speed = parse_speed(value)
    except ValueError as exc:
        raise SandboxHTTPError(422, str(exc)) from None
    sandbox = _sandbox(request)
    sandbox.set_speed(speed)
    return json_response(_status(sandbox))


async def get_faults(request: Request) -> Response:
    return json_response(_sandbox(request).faults.config.model_dump(mode="json"))


async def set_faults(request: Request) -> Response:
    """A profile (``{"profile": "flaky"}``) or ``FaultConfig`` fields; replaces the faults."""
    body = await json_body(request)
    profile = body.pop("profile", None)
    if profile is not None:
        if not isinstance(profile, str) or profile not in PROFILES:
            names = ", ".join(PROFILES)
            raise SandboxHTTPError(422, f"unknown fault profile {profile!r}: use one of {names}")
        base = PROFILES[profile].model_dump(mode="json")
    else:
        base = {}
    try:
        config = FaultConfig.model_validate({**base, **body})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise SandboxHTTPError(422, f"invalid {where}: {first['msg']}") from None
    _sandbox(request).faults.configure(config)
    return json_response(config.model_dump(mode="json"))


async def disconnect(request: Request) -> Response:
    """Close every stream connection now (clients are expected to reconnect)."""
    sandbox = _sandbox(request)
    closed = sandbox.md_hub.connections + sandbox.trade_hub.connections
    sandbox.md_hub.close_all()
    sandbox.trade_hub.close_all()
    return json_response({"closed": closed})


def admin_routes() -> list[Route]:
    return [
        Route("/sandbox/status", status, methods=["GET"]),
        Route("/sandbox/reset", reset, methods=["POST"]),
        Route("/sandbox/cash", set_cash, methods=["POST"]),
        Route("/sandbox/clock", move_clock, methods=["POST"]),
        Route("/sandbox/step", move_clock, methods=["POST"]),
        Route("/sandbox/speed", set_speed, methods=["POST"]),
        Route("/sandbox/faults", get_faults, methods=["GET"]),
        Route("/sandbox/faults", set_faults, methods=["POST"]),
        Route("/sandbox/disconnect", disconnect, methods=["POST"]),
    ]
