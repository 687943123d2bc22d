"""Market-data REST: bars (several symbols, paged), latest trades, quotes and bars, and
snapshots, for stocks under ``/v2/stocks`` and crypto under ``/v1beta3/crypto/us``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.core import Timeframe
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._http import json_response, query_datetime, query_int
from stockyard.sandbox._market import MAX_PAGE, SymbolState
from stockyard.sandbox._md_wire import Message, bar_rest, quote_rest, trade_rest
from stockyard.sandbox._service import Sandbox

__all__ = ["market_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
_MAX_SYMBOLS = 1000


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _symbols(request: Request, *, crypto: bool) -> list[str]:
    text = request.query_params.get("symbols", "")
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise SandboxHTTPError(400, "symbols is required")
    if len(symbols) > _MAX_SYMBOLS:
        raise SandboxHTTPError(400, f"at most {_MAX_SYMBOLS} symbols per request")
    for symbol in symbols:
        if ("/" in symbol) != crypto:
            kind = "crypto pairs like BTC/USD" if crypto else "stock symbols"
            raise SandboxHTTPError(400, f"invalid symbol {symbol!r}: this endpoint takes {kind}")
    return symbols


def _timeframe(request: Request) -> Timeframe:
    text = request.query_params.get("timeframe")
    if not text:
        raise SandboxHTTPError(400, "timeframe is required")
    try:
        return Timeframe.parse(text)
    except ValueError:
        raise SandboxHTTPError(400, f"invalid timeframe {text!r}") from None


def _bars(*, crypto: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        sort = request.query_params.get("sort") or "asc"
        if sort not in ("asc", "desc"):
            raise SandboxHTTPError(400, f"sort must be asc or desc, got {sort!r}")
        page = _sandbox(request).market.bars(
            _symbols(request, crypto=crypto),
            _timeframe(request),
            start=query_datetime(request, "start"),
            end=query_datetime(request, "end"),
            limit=query_int(request, "limit", default=1000, lo=1, hi=MAX_PAGE),
            page_token=request.query_params.get("page_token") or None,
            descending=sort == "desc",
        )
        return json_response({"bars": page.bars, "next_page_token": page.next_page_token})

    return endpoint


def _latest(kind: str, *, crypto: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        market = _sandbox(request).market
        out: dict[str, Message] = {}
        for symbol in _symbols(request, crypto=crypto):
            state = market.state(symbol)
            row = _latest_row(state, kind) if state is not None else None
            if row is not None:
                out[symbol] = row
        return json_response({kind: out})

    return endpoint


def _latest_row(state: SymbolState, kind: str) -> Message | None:
    if kind == "trades":
        return trade_rest(state.trade, trade_id=state.trade_id) if state.trade else None
    if kind == "quotes":
        return quote_rest(state.quote) if state.quote else None
    return bar_rest(state.minute_bar) if state.minute_bar else None


def _snapshot(state: SymbolState) -> Message:
    """What the replay has seen of a symbol; a part not seen yet is absent, as with Alpaca."""
    parts: Message = {
        "latestTrade": trade_rest(state.trade, trade_id=state.trade_id) if state.trade else None,
        "latestQuote": quote_rest(state.quote) if state.quote else None,
        "minuteBar": bar_rest(state.minute_bar) if state.minute_bar else None,
        "dailyBar": bar_rest(state.daily_bar) if state.daily_bar else None,
        "prevDailyBar": bar_rest(state.previous_daily_bar) if state.previous_daily_bar else None,
    }
    return {name: part for name, part in parts.items() if part is not None}


def _snapshots(*, crypto: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        market = _sandbox(request).market
        out: dict[str, Message] = {}
        for symbol in _symbols(request, crypto=crypto):
            state = market.state(symbol)
            if state is not None:
                out[symbol] = _snapshot(state)
        # Alpaca answers stock snapshots keyed by symbol at the top, crypto under "snapshots".
        return json_response({"snapshots": out} if crypto else out)

    return endpoint


def market_routes() -> list[Route]:
    """The market-data API's routes."""
    crypto = "/v1beta3/crypto/us"
    return [
        Route("/v2/stocks/bars", _bars(crypto=False), methods=["GET"]),
        Route("/v2/stocks/bars/latest", _latest("bars", crypto=False), methods=["GET"]),
        Route("/v2/stocks/trades/latest", _latest("trades", crypto=False), methods=["GET"]),
        Route("/v2/stocks/quotes/latest", _latest("quotes", crypto=False), methods=["GET"]),
        Route("/v2/stocks/snapshots", _snapshots(crypto=False), methods=["GET"]),
        Route(f"{crypto}/bars", _bars(crypto=True), methods=["GET"]),
        Route(f"{crypto}/latest/bars", _latest("bars", crypto=True), methods=["GET"]),
        Route(f"{crypto}/latest/trades", _latest("trades", crypto=True), methods=["GET"]),
        Route(f"{crypto}/latest/quotes", _latest("quotes", crypto=True), methods=["GET"]),
        Route(f"{crypto}/snapshots", _snapshots(crypto=True), methods=["GET"]),
    ]
