"""Trading REST v2: account, orders, positions, clock, calendar, assets, activities."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.core import OrderRequest
from stockyard.execution import SimExchange, UnknownSymbolError
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._http import (
    account_of,
    json_body,
    json_response,
    query_bool,
    query_datetime,
    query_decimal,
    query_int,
)
from stockyard.sandbox._order_body import parse_order, parse_replace
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._wire import (
    account_json,
    activity_json,
    asset_json,
    calendar_json,
    clock_json,
    order_json,
    position_json,
)

__all__ = ["trading_routes"]


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _status(request: Request) -> Literal["open", "closed", "all"]:
    status = request.query_params.get("status", "open") or "open"
    if status not in ("open", "closed", "all"):
        raise SandboxHTTPError(422, f"status must be open, closed or all, got {status!r}")
    return status  # type: ignore[return-value]


async def get_account(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.locked() as ex:
        account = ex.account(account_of(request))
    suspended = sandbox.accounts.configurations(account_of(request))["suspend_trade"] is True
    return json_response(
        account_json(
            account,
            account_id=account_of(request),
            created_at=sandbox.created_at,
            suspended=suspended,
        )
    )


async def post_order(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await json_body(request)
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise SandboxHTTPError(422, "invalid symbol: a symbol is required")
    order_request = parse_order(body, symbol=sandbox.resolve_symbol(symbol))
    _check_configurations(sandbox, account_of(request), order_request)
    with sandbox.locked() as ex:
        order = ex.submit(account_of(request), order_request)
    return json_response(order_json(order))


def _check_configurations(sandbox: Sandbox, account_id: str, order: OrderRequest) -> None:
    """The account's configurations that refuse an order before it reaches the exchange."""
    conf = sandbox.accounts.configurations(account_id)
    if conf["suspend_trade"] is True:
        raise SandboxHTTPError(403, "trading is suspended for this account (suspend_trade)")
    crypto = "/" in order.symbol
    fractional = order.notional is not None or (
        order.qty is not None and order.qty != order.qty.to_integral_value()
    )
    if fractional and not crypto and conf["fractional_trading"] is False:
        raise SandboxHTTPError(422, "fractional trading is disabled for this account")


async def list_orders(request: Request) -> Response:
    symbols_text = request.query_params.get("symbols")
    sandbox = _sandbox(request)
    symbols = [sandbox.resolve_symbol(s) for s in symbols_text.split(",")] if symbols_text else None
    direction: Literal["asc", "desc"] = "desc"
    text = request.query_params.get("direction") or "desc"
    if text not in ("asc", "desc"):
        raise SandboxHTTPError(422, f"direction must be asc or desc, got {text!r}")
    direction = "asc" if text == "asc" else "desc"
    side = request.query_params.get("side")
    with sandbox.locked() as ex:
        orders = ex.list_orders(
            account_of(request),
            status=_status(request),
            limit=query_int(request, "limit", default=50, lo=1, hi=500),
            after=query_datetime(request, "after"),
            until=query_datetime(request, "until"),
            direction=direction,
            symbols=symbols,
            nested=query_bool(request, "nested"),
        )
    if side:
        orders = [o for o in orders if o.side.value == side]
    return json_response([order_json(o) for o in orders])


async def cancel_all(request: Request) -> Response:
    with _sandbox(request).locked() as ex:
        results = ex.cancel_all(account_of(request))
    rows = [
        {
            "id": r.order_id,
            "status": r.status,
            "body": order_json(r.order)
            if r.order is not None and r.status == 200
            else {"code": r.status, "message": r.message or ""},
        }
        for r in results
    ]
    return json_response(rows, status=207)


async def get_order(request: Request) -> Response:
    order_id = request.path_params["order_id"]
    with _sandbox(request).locked() as ex:
        order = ex.get_order(account_of(request), order_id)
    return json_response(order_json(order))


async def get_order_by_client_id(request: Request) -> Response:
    client_id = request.query_params.get("client_order_id")
    if not client_id:
        raise SandboxHTTPError(422, "client_order_id is required")
    with _sandbox(request).locked() as ex:
        order = ex.get_order_by_client_id(account_of(request), client_id)
    return json_response(order_json(order))


async def replace_order(request: Request) -> Response:
    body = parse_replace(await json_body(request))
    with _sandbox(request).locked() as ex:
        order = ex.replace(
            account_of(request),
            request.path_params["order_id"],
            qty=body.qty,
            limit_price=body.limit_price,
            stop_price=body.stop_price,
            trail=body.trail,
            time_in_force=body.time_in_force,
            client_order_id=body.client_order_id,
        )
    return json_response(order_json(order))


async def cancel_order(request: Request) -> Response:
    with _sandbox(request).locked() as ex:
        ex.cancel(account_of(request), request.path_params["order_id"])
    return Response(status_code=204)


def _position_rows(ex: SimExchange, account: str) -> list[dict[str, object]]:
    return [position_json(p) for p in ex.positions(account)]


async def list_positions(request: Request) -> Response:
    with _sandbox(request).locked() as ex:
        return json_response(_position_rows(ex, account_of(request)))


async def get_position(request: Request) -> Response:
    sandbox = _sandbox(request)
    symbol = sandbox.resolve_symbol(request.path_params["symbol"])
    with sandbox.locked() as ex:
        position = ex.position(account_of(request), symbol)
    return json_response(position_json(position))


async def close_position(request: Request) -> Response:
    sandbox = _sandbox(request)
    symbol = sandbox.resolve_symbol(request.path_params["symbol"])
    qty, percentage = query_decimal(request, "qty"), query_decimal(request, "percentage")
    if qty is not None and percentage is not None:
        raise SandboxHTTPError(422, "give qty or percentage, not both")
    if percentage is not None and percentage > 100:
        raise SandboxHTTPError(422, f"percentage must be <= 100, got {percentage}")
    with sandbox.locked() as ex:
        order = ex.close_position(account_of(request), symbol, qty=qty, percentage=percentage)
    return json_response(order_json(order))


async def close_all(request: Request) -> Response:
    cancel_orders = query_bool(request, "cancel_orders")
    with _sandbox(request).locked() as ex:
        results = ex.close_all(account_of(request), cancel_orders=cancel_orders)
    rows = [
        {
            "symbol": r.symbol.replace("/", ""),
            "status": r.status,
            "order_id": r.order.id if r.order is not None else None,
            "body": order_json(r.order)
            if r.order is not None
            else {"code": r.status, "message": r.message or "", "symbol": r.symbol},
        }
        for r in results
    ]
    return json_response(rows, status=207)


async def get_clock(request: Request) -> Response:
    sandbox = _sandbox(request)
    now = sandbox.clock.now()
    calendar = sandbox.calendar
    return json_response(
        clock_json(
            now=now,
            is_open=calendar.is_open(now),
            next_open=calendar.next_open(now),
            next_close=calendar.next_close(now),
        )
    )


def _query_date(request: Request, name: str, default: date) -> date:
    text = request.query_params.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SandboxHTTPError(422, f"{name} must be a date (YYYY-MM-DD), got {text!r}") from None


async def get_calendar(request: Request) -> Response:
    sandbox = _sandbox(request)
    today = sandbox.clock.now().date()
    start = _query_date(request, "start", today - timedelta(days=30))
    end = _query_date(request, "end", today + timedelta(days=30))
    if end < start:
        raise SandboxHTTPError(422, "end must not be before start")
    if (end - start).days > 3660:
        raise SandboxHTTPError(422, "the calendar range is limited to ten years")
    sessions = sandbox.calendar.sessions(start, end)
    return json_response(calendar_json(sessions, calendar=sandbox.calendar))


async def list_assets(request: Request) -> Response:
    asset_class = request.query_params.get("asset_class")
    status = request.query_params.get("status")
    with _sandbox(request).locked() as ex:
        rows = [asset_json(a) for a in ex.assets()]
    if asset_class:
        rows = [r for r in rows if r["class"] == asset_class]
    if status:
        rows = [r for r in rows if r["status"] == status]
    return json_response(rows)


async def get_asset(request: Request) -> Response:
    sandbox = _sandbox(request)
    wanted = request.path_params["symbol"]
    with sandbox.locked() as ex:
        for asset in ex.assets():
            if asset.id == wanted:
                return json_response(asset_json(asset))
        try:
            asset = ex.asset(sandbox.resolve_symbol(wanted))
        except UnknownSymbolError as exc:
            raise SandboxHTTPError(404, f'asset not found for "{wanted}"') from exc
    return json_response(asset_json(asset))


async def activities(request: Request) -> Response:
    kind = request.path_params.get("activity_type", "FILL")
    types = request.query_params.get("activity_types", kind)
    if "FILL" not in types.upper().split(","):
        return json_response([])
    account = account_of(request)
    after = query_datetime(request, "after")
    until = query_datetime(request, "until")
    page_size = query_int(request, "page_size", default=100, lo=1, hi=100)
    descending = (request.query_params.get("direction") or "desc") == "desc"
    with _sandbox(request).locked() as ex:
        fills = ex.fills(account, after=after, until=until)
        statuses = {f.order_id: ex.get_order(account, f.order_id).status.value for f in fills}
    rows = [activity_json(f, account_id=account, order_status=statuses[f.order_id]) for f in fills]
    rows.sort(key=lambda r: str(r["id"]), reverse=descending)
    token = request.query_params.get("page_token")
    if token:
        rows = [r for r in rows if (str(r["id"]) < token if descending else str(r["id"]) > token)]
    return json_response(rows[:page_size])


def trading_routes() -> list[Route]:
    """The trading API's routes (``/v2/...``)."""
    return [
        Route("/v2/account", get_account, methods=["GET"]),
        Route("/v2/account/activities", activities, methods=["GET"]),
        Route("/v2/account/activities/{activity_type}", activities, methods=["GET"]),
        Route("/v2/orders", post_order, methods=["POST"]),
        Route("/v2/orders", list_orders, methods=["GET"]),
        Route("/v2/orders", cancel_all, methods=["DELETE"]),
        Route("/v2/orders:by_client_order_id", get_order_by_client_id, methods=["GET"]),
        Route("/v2/orders/{order_id}", get_order, methods=["GET"]),
        Route("/v2/orders/{order_id}", replace_order, methods=["PATCH"]),
        Route("/v2/orders/{order_id}", cancel_order, methods=["DELETE"]),
        Route("/v2/positions", list_positions, methods=["GET"]),
        Route("/v2/positions", close_all, methods=["DELETE"]),
        Route("/v2/positions/{symbol:path}", get_position, methods=["GET"]),
        Route("/v2/positions/{symbol:path}", close_position, methods=["DELETE"]),
        Route("/v2/clock", get_clock, methods=["GET"]),
        Route("/v2/calendar", get_calendar, methods=["GET"]),
        Route("/v2/assets", list_assets, methods=["GET"]),
        Route("/v2/assets/{symbol:path}", get_asset, methods=["GET"]),
    ]
