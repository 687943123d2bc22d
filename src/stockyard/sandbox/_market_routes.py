"""Market-data REST: bars, quotes and trades (historical, paged, for several symbols or
one), the latest of each, snapshots and crypto order books, for stocks under
``/v2/stocks`` and crypto under ``/v1beta3/crypto/us``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.core import Timeframe
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._http import json_response, query_datetime, query_int
from stockyard.sandbox._market import ADJUSTMENTS, MAX_PAGE, BarPage, SymbolState
from stockyard.sandbox._md_wire import Message, bar_rest, quote_rest, trade_rest
from stockyard.sandbox._service import Sandbox

__all__ = ["market_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
_MAX_SYMBOLS = 1000
_FEEDS = ("sip", "iex", "delayed_sip", "boats", "overnight", "otc")
_RECENT_S = 15 * 60  # SIP data this recent needs a subscription that includes it


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _symbols(request: Request, *, crypto: bool) -> list[str]:
    text = request.path_params.get("symbol") or request.query_params.get("symbols", "")
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


def _sort(request: Request) -> bool:
    sort = request.query_params.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise SandboxHTTPError(400, f"sort must be asc or desc, got {sort!r}")
    return sort == "desc"


def _check_feed(request: Request, *, crypto: bool) -> None:
    """``feed`` is one of Alpaca's; recent ``sip`` data needs the key's SIP entitlement."""
    feed = request.query_params.get("feed")
    if crypto or not feed:
        return
    if feed not in _FEEDS:
        raise SandboxHTTPError(400, f"invalid feed {feed!r}: use {', '.join(_FEEDS)}")
    sandbox = _sandbox(request)
    if feed == "sip" and not sandbox.config.limits.sip:
        end = query_datetime(request, "end")
        now = sandbox.clock.now()
        if end is None or (now - end).total_seconds() < _RECENT_S:
            raise SandboxHTTPError(403, "subscription does not permit querying recent SIP data")


def _page(request: Request, page: BarPage, key: str) -> Response:
    single = request.path_params.get("symbol")
    if single is None:
        return json_response({key: page.bars, "next_page_token": page.next_page_token})
    rows = next(iter(page.bars.values()), [])
    answer = {key: rows, "symbol": single, "next_page_token": page.next_page_token}
    return json_response(answer)


def _bars(*, crypto: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        _check_feed(request, crypto=crypto)
        adjustment = request.query_params.get("adjustment") or "raw"
        if adjustment not in ADJUSTMENTS:
            raise SandboxHTTPError(
                400, f"invalid adjustment {adjustment!r}: use {', '.join(ADJUSTMENTS)}"
            )
        page = _sandbox(request).market.bars(
            _symbols(request, crypto=crypto),
            _timeframe(request),
            start=query_datetime(request, "start"),
            end=query_datetime(request, "end"),
            limit=query_int(request, "limit", default=1000, lo=1, hi=MAX_PAGE),
            page_token=request.query_params.get("page_token") or None,
            descending=_sort(request),
            adjustment=adjustment,
        )
        return _page(request, page, "bars")

    return endpoint


def _ticks(kind: str, *, crypto: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        _check_feed(request, crypto=crypto)
        page = _sandbox(request).market.ticks(
            _symbols(request, crypto=crypto),
            kind,
            start=query_datetime(request, "start"),
            end=query_datetime(request, "end"),
            limit=query_int(request, "limit", default=1000, lo=1, hi=MAX_PAGE),
            page_token=request.query_params.get("page_token") or None,
            descending=_sort(request),
        )
        return _page(request, page, kind)

    return endpoint


def _latest(kind: str, *, crypto: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        _check_feed(request, crypto=crypto)
        market = _sandbox(request).market
        out: dict[str, Message] = {}
        for symbol in _symbols(request, crypto=crypto):
            state = market.state(symbol)
            row = _latest_row(state, kind) if state is not None else None
            if row is not None:
                out[symbol] = row
        single = request.path_params.get("symbol")
        if single is None:
            return json_response({kind: out})
        if single.upper() not in out:
            raise SandboxHTTPError(404, f"no {kind} found for {single}")
        return json_response({"symbol": single, kind[:-1]: out[single.upper()]})

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
        _check_feed(request, crypto=crypto)
        market = _sandbox(request).market
        out: dict[str, Message] = {}
        for symbol in _symbols(request, crypto=crypto):
            state = market.state(symbol)
            if state is not None:
                out[symbol] = _snapshot(state)
        single = request.path_params.get("symbol")
        if single is not None:
            if single.upper() not in out:
                raise SandboxHTTPError(404, f"no snapshot found for {single}")
            return json_response({"symbol": single, **out[single.upper()]})
        # Alpaca answers stock snapshots keyed by symbol at the top, crypto under "snapshots".
        return json_response({"snapshots": out} if crypto else out)

    return endpoint


async def _orderbooks(request: Request) -> Response:
    """The top of each book: the latest quote's bid and ask (the sandbox keeps one level)."""
    market = _sandbox(request).market
    out: dict[str, Message] = {}
    for symbol in _symbols(request, crypto=True):
        state = market.state(symbol)
        if state is not None and state.quote is not None:
            q = state.quote
            out[symbol] = {
                "t": quote_rest(q)["t"],
                "b": [{"p": q.bid_price, "s": q.bid_size}],
                "a": [{"p": q.ask_price, "s": q.ask_size}],
            }
    return json_response({"orderbooks": out})


def market_routes() -> list[Route]:
    """The market-data API's routes."""
    crypto = "/v1beta3/crypto/us"
    one = "/v2/stocks/{symbol}"
    return [
        Route("/v2/stocks/bars", _bars(crypto=False), methods=["GET"]),
        Route("/v2/stocks/quotes", _ticks("quotes", crypto=False), methods=["GET"]),
        Route("/v2/stocks/trades", _ticks("trades", crypto=False), methods=["GET"]),
        Route(f"{one}/bars", _bars(crypto=False), methods=["GET"]),
        Route(f"{one}/quotes", _ticks("quotes", crypto=False), methods=["GET"]),
        Route(f"{one}/trades", _ticks("trades", crypto=False), methods=["GET"]),
        Route(f"{one}/bars/latest", _latest("bars", crypto=False), methods=["GET"]),
        Route(f"{one}/quotes/latest", _latest("quotes", crypto=False), methods=["GET"]),
        Route(f"{one}/trades/latest", _latest("trades", crypto=False), methods=["GET"]),
        Route(f"{one}/snapshot", _snapshots(crypto=False), methods=["GET"]),
        Route(f"{crypto}/quotes", _ticks("quotes", crypto=True), methods=["GET"]),
        Route(f"{crypto}/trades", _ticks("trades", crypto=True), methods=["GET"]),
        Route(f"{crypto}/latest/orderbooks", _orderbooks, methods=["GET"]),
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
