"""Account configurations, portfolio history and watchlists (``/v2/account/...``,
``/v2/watchlists...``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.execution import UnknownSymbolError
from stockyard.sandbox._accounts import Watchlist
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._history import HistoryQuery, portfolio_history
from stockyard.sandbox._http import (
    account_of,
    json_body,
    json_response,
    query_bool,
    query_datetime,
)
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._wire import asset_json, rfc3339

__all__ = ["account_routes"]


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def get_configurations(request: Request) -> Response:
    return json_response(_sandbox(request).accounts.configurations(account_of(request)))


async def patch_configurations(request: Request) -> Response:
    sandbox = _sandbox(request)
    changed = sandbox.accounts.configure(account_of(request), await json_body(request))
    sandbox.mark_dirty()
    return json_response(changed)


async def get_portfolio_history(request: Request) -> Response:
    sandbox = _sandbox(request)
    params = request.query_params
    query = HistoryQuery(
        period=params.get("period") or None,
        timeframe=params.get("timeframe") or None,
        start=query_datetime(request, "start"),
        end=query_datetime(request, "end") or query_datetime(request, "date_end"),
        extended_hours=query_bool(request, "extended_hours"),
        intraday_reporting=params.get("intraday_reporting") or None,
    )
    with sandbox.lock:
        answer = portfolio_history(
            sandbox.accounts,
            account_of(request),
            query,
            now=sandbox.clock.now(),
            calendar=sandbox.calendar,
        )
    return json_response(answer)


# -- watchlists ------------------------------------------------------------------------


def _watchlist_json(
    sandbox: Sandbox, account_id: str, w: Watchlist, *, assets: bool = True
) -> dict[str, object]:
    row: dict[str, object] = {
        "id": w.id,
        "account_id": account_id,
        "created_at": rfc3339(w.created_at),
        "updated_at": rfc3339(w.updated_at),
        "name": w.name,
    }
    if assets:
        with sandbox.locked() as ex:
            row["assets"] = [asset_json(ex.asset(s)) for s in w.symbols]
    return row


def _symbols(sandbox: Sandbox, value: object) -> list[str]:
    """Known symbols (``BTCUSD`` names ``BTC/USD``); an unknown one is a 422 naming it."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise SandboxHTTPError(422, "symbols must be a list of strings")
    out = []
    with sandbox.locked() as ex:
        for text in value:
            symbol = sandbox.resolve_symbol(text)
            try:
                ex.asset(symbol)
            except UnknownSymbolError:
                raise SandboxHTTPError(422, f"asset not found: {text}") from None
            out.append(symbol)
    return out


def _target(request: Request) -> Watchlist:
    sandbox, account = _sandbox(request), account_of(request)
    if "watchlist_id" in request.path_params:
        return sandbox.accounts.watchlist(account, id=request.path_params["watchlist_id"])
    name = request.query_params.get("name")
    if not name:
        raise SandboxHTTPError(422, "name is required")
    return sandbox.accounts.watchlist(account, name=name)


async def list_watchlists(request: Request) -> Response:
    sandbox, account = _sandbox(request), account_of(request)
    return json_response(
        [
            _watchlist_json(sandbox, account, w, assets=False)
            for w in sandbox.accounts.watchlists(account)
        ]
    )


async def create_watchlist(request: Request) -> Response:
    sandbox, account = _sandbox(request), account_of(request)
    body = await json_body(request)
    made = sandbox.accounts.create_watchlist(
        account,
        name=body.get("name"),
        symbols=_symbols(sandbox, body.get("symbols")),
        at=sandbox.clock.now(),
    )
    sandbox.mark_dirty()
    return json_response(_watchlist_json(sandbox, account, made))


async def get_watchlist(request: Request) -> Response:
    return json_response(_watchlist_json(_sandbox(request), account_of(request), _target(request)))


async def update_watchlist(request: Request) -> Response:
    sandbox, account = _sandbox(request), account_of(request)
    w = _target(request)
    body = await json_body(request)
    if "name" not in body and "symbols" not in body:
        raise SandboxHTTPError(422, "give name and/or symbols")
    symbols = _symbols(sandbox, body["symbols"]) if "symbols" in body else None
    sandbox.accounts.update_watchlist(
        account, w, name=body.get("name"), symbols=symbols, at=sandbox.clock.now()
    )
    sandbox.mark_dirty()
    return json_response(_watchlist_json(sandbox, account, w))


async def add_to_watchlist(request: Request) -> Response:
    sandbox, account = _sandbox(request), account_of(request)
    w = _target(request)
    body = await json_body(request)
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise SandboxHTTPError(422, "symbol is required")
    added = _symbols(sandbox, [symbol])
    sandbox.accounts.update_watchlist(
        account, w, name=None, symbols=[*w.symbols, *added], at=sandbox.clock.now()
    )
    sandbox.mark_dirty()
    return json_response(_watchlist_json(sandbox, account, w))


async def remove_from_watchlist(request: Request) -> Response:
    sandbox, account = _sandbox(request), account_of(request)
    w = _target(request)
    symbol = sandbox.resolve_symbol(request.path_params["symbol"])
    if symbol not in w.symbols:
        raise SandboxHTTPError(404, f"symbol {request.path_params['symbol']} not in watchlist")
    kept = [s for s in w.symbols if s != symbol]
    sandbox.accounts.update_watchlist(account, w, name=None, symbols=kept, at=sandbox.clock.now())
    sandbox.mark_dirty()
    return json_response(_watchlist_json(sandbox, account, w))


async def delete_watchlist(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.accounts.delete_watchlist(account_of(request), _target(request))
    sandbox.mark_dirty()
    return Response(status_code=204)


def account_routes() -> list[Route]:
    """Configurations, portfolio history and watchlists."""
    by_id = "/v2/watchlists/{watchlist_id}"
    by_name = "/v2/watchlists:by_name"
    return [
        Route("/v2/account/configurations", get_configurations, methods=["GET"]),
        Route("/v2/account/configurations", patch_configurations, methods=["PATCH"]),
        Route("/v2/account/portfolio/history", get_portfolio_history, methods=["GET"]),
        Route("/v2/watchlists", list_watchlists, methods=["GET"]),
        Route("/v2/watchlists", create_watchlist, methods=["POST"]),
        Route(by_name, get_watchlist, methods=["GET"]),
        Route(by_name, add_to_watchlist, methods=["POST"]),
        Route(by_name, update_watchlist, methods=["PUT"]),
        Route(by_name, delete_watchlist, methods=["DELETE"]),
        Route(by_id, get_watchlist, methods=["GET"]),
        Route(by_id, add_to_watchlist, methods=["POST"]),
        Route(by_id, update_watchlist, methods=["PUT"]),
        Route(by_id, delete_watchlist, methods=["DELETE"]),
        Route(f"{by_id}/{{symbol:path}}", remove_from_watchlist, methods=["DELETE"]),
    ]
