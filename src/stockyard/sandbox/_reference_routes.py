"""Reference and derived market data: auctions, exchange and condition codes, the
screener (most actives, movers), news, corporate actions and their announcements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockyard.core import Timeframe, table_to_bars, to_ns
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._http import json_response, query_datetime, query_int
from stockyard.sandbox._market import EARLIEST
from stockyard.sandbox._md_wire import Message, ns_rfc3339
from stockyard.sandbox._reference import CONDITIONS, EXCHANGES, CorporateAction
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._wire import num

__all__ = ["reference_routes"]

_ANNOUNCEMENT_TYPES = {
    "forward_split": "split",
    "reverse_split": "split",
    "cash_dividend": "dividend",
}
_SUB_TYPES = {
    "forward_split": "stock_split",
    "reverse_split": "reverse_split",
    "cash_dividend": "cash",
}


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _day(request: Request, name: str, default: date | None) -> date | None:
    text = request.query_params.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SandboxHTTPError(400, f"{name} must be a date (YYYY-MM-DD), got {text!r}") from None


def _symbol_list(request: Request) -> list[str]:
    text = request.path_params.get("symbol") or request.query_params.get("symbols") or ""
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise SandboxHTTPError(400, "symbols is required")
    return symbols


async def auctions(request: Request) -> Response:
    """Each session's opening and closing auction, from the replayed data: the day's
    opening price at the open and its closing price at the close (once passed)."""
    sandbox = _sandbox(request)
    now = sandbox.clock.now()
    start = query_datetime(request, "start") or now.replace(hour=0, minute=0, second=0)
    start = max(start, EARLIEST)
    end = min(query_datetime(request, "end") or now, now)
    symbols = _symbol_list(request)
    sessions = sandbox.calendar.sessions(start.date(), end.date()) if end > start else []
    if not sessions:
        single = request.path_params.get("symbol")
        empty: Message = {"auctions": [] if single else {}, "next_page_token": None}
        return json_response({**empty, "symbol": single} if single else empty)
    tables = sandbox.source.get_bars(
        symbols, Timeframe.DAY, start - timedelta(days=1), end + timedelta(days=1)
    )
    out: dict[str, list[Message]] = {}
    for symbol in symbols:
        bars = (
            table_to_bars(tables[symbol], symbol=symbol, timeframe=Timeframe.DAY)
            if symbol in tables
            else []
        )
        by_day = {b.timestamp.date(): b for b in bars}
        for day, opened, closed in sessions:
            bar = by_day.get(day) or by_day.get(day - timedelta(days=1))
            if bar is None or opened > end or opened < start:
                continue
            row: Message = {"d": day.isoformat(), "o": [_auction(opened, bar.open, "O")], "c": []}
            if closed <= end:
                row["c"] = [_auction(closed, bar.close, "6")]
            out.setdefault(symbol, []).append(row)
    single = request.path_params.get("symbol")
    if single is not None:
        return json_response(
            {"auctions": out.get(single.upper(), []), "symbol": single, "next_page_token": None}
        )
    return json_response({"auctions": out, "next_page_token": None})


def _auction(at: datetime, price: float, condition: str) -> Message:
    return {"t": ns_rfc3339(to_ns(at)), "x": "V", "p": price, "c": condition}


async def conditions(request: Request) -> Response:
    ticktype = request.path_params["ticktype"]
    if ticktype not in CONDITIONS:
        raise SandboxHTTPError(400, f"invalid ticktype {ticktype!r}: use trade or quote")
    tape = request.query_params.get("tape")
    if tape not in ("A", "B", "C"):
        raise SandboxHTTPError(400, "tape is required: A, B or C")
    return json_response(CONDITIONS[ticktype])


async def exchanges(request: Request) -> Response:
    return json_response(EXCHANGES)


def _last_updated(sandbox: Sandbox) -> str:
    return ns_rfc3339(to_ns(sandbox.clock.now()))


async def most_actives(request: Request) -> Response:
    """The stocks replayed today, by volume or trade count."""
    sandbox = _sandbox(request)
    by = request.query_params.get("by") or "volume"
    if by not in ("volume", "trades"):
        raise SandboxHTTPError(400, f"by must be volume or trades, got {by!r}")
    top = query_int(request, "top", default=10, lo=1, hi=100)
    found: list[tuple[str, int, int]] = []
    for symbol in sandbox.market.symbols_seen():
        state = sandbox.market.state(symbol)
        if "/" in symbol or state is None or state.daily_bar is None:
            continue
        bar = state.daily_bar
        found.append((symbol, int(bar.volume), int(bar.trade_count or 0)))
    found.sort(key=lambda r: (-(r[1] if by == "volume" else r[2]), r[0]))
    rows = [{"symbol": s, "volume": v, "trade_count": n} for s, v, n in found]
    return json_response({"most_actives": rows[:top], "last_updated": _last_updated(sandbox)})


async def movers(request: Request) -> Response:
    """Gainers and losers of the day: the latest price against the previous close (the
    day's open when the replay has not seen the previous day)."""
    sandbox = _sandbox(request)
    market_type = request.path_params["market_type"]
    if market_type not in ("stocks", "crypto"):
        raise SandboxHTTPError(400, f"market_type must be stocks or crypto, got {market_type!r}")
    top = query_int(request, "top", default=10, lo=1, hi=50)
    rows = []
    for symbol in sandbox.market.symbols_seen():
        state = sandbox.market.state(symbol)
        if ("/" in symbol) != (market_type == "crypto") or state is None or state.daily_bar is None:
            continue
        base = state.previous_daily_bar.close if state.previous_daily_bar else state.daily_bar.open
        price = state.trade.price if state.trade else state.daily_bar.close
        if base <= 0:
            continue
        change = price - base
        rows.append({"symbol": symbol, "price": price, "change": round(change, 4),
                     "percent_change": round(change / base * 100, 4)})  # fmt: skip
    rows.sort(key=lambda r: (-float(r["percent_change"]), str(r["symbol"])))  # type: ignore[arg-type]
    gainers = [r for r in rows if float(r["percent_change"]) > 0][:top]  # type: ignore[arg-type]
    losers = [r for r in reversed(rows) if float(r["percent_change"]) < 0][:top]  # type: ignore[arg-type]
    return json_response(
        {
            "gainers": gainers,
            "losers": losers,
            "market_type": market_type,
            "last_updated": _last_updated(sandbox),
        }
    )


async def news(request: Request) -> Response:
    """News from the local store (none unless configured), newest first by default."""
    sandbox = _sandbox(request)
    text = request.query_params.get("symbols") or ""
    wanted = {s.strip().upper() for s in text.split(",") if s.strip()}
    start, end = query_datetime(request, "start"), query_datetime(request, "end")
    limit = query_int(request, "limit", default=10, lo=1, hi=50)
    sort = request.query_params.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise SandboxHTTPError(400, f"sort must be asc or desc, got {sort!r}")
    now = sandbox.clock.now()
    rows = []
    for item in sandbox.config.reference.news:
        at = datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00"))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if at > now or (start and at < start) or (end and at > end):
            continue
        if wanted and not wanted & set(item["symbols"]):  # type: ignore[call-overload]
            continue
        rows.append((at, item))
    rows.sort(key=lambda r: (r[0], int(r[1]["id"])), reverse=sort == "desc")  # type: ignore[call-overload]
    token = request.query_params.get("page_token")
    if token:
        ids = [int(r[1]["id"]) for r in rows]  # type: ignore[call-overload]
        rows = rows[ids.index(int(token)) :] if token.isdigit() and int(token) in ids else []
    page = rows[:limit]
    next_token = str(rows[limit][1]["id"]) if len(rows) > limit else None
    return json_response({"news": [item for _, item in page], "next_page_token": next_token})


def _actions(sandbox: Sandbox) -> tuple[CorporateAction, ...]:
    return sandbox.config.reference.corporate_actions


def _action_json(action: CorporateAction) -> Message:
    ex_date = action.ex_date.isoformat()
    row: Message = {"id": action.id, "symbol": action.symbol, "cusip": "", "ex_date": ex_date,
                    "process_date": ex_date}  # fmt: skip
    if action.record_date:
        row["record_date"] = action.record_date.isoformat()
    if action.payable_date:
        row["payable_date"] = action.payable_date.isoformat()
    if action.is_split:
        row.update(old_rate=float(action.old_rate), new_rate=float(action.new_rate))
        if action.type == "reverse_split":
            row.update(old_cusip="", new_cusip="")
            row.pop("cusip")
    else:
        row.update(rate=float(action.rate), special=False, foreign=False)
    return row


async def corporate_actions(request: Request) -> Response:
    """``/v1/corporate-actions`` from the local store, grouped by type as Alpaca does."""
    sandbox = _sandbox(request)
    today = sandbox.clock.now().date()
    start, end = _day(request, "start", today), _day(request, "end", today)
    text = request.query_params.get("symbols") or ""
    symbols = {s.strip().upper() for s in text.split(",") if s.strip()}
    types = {t.strip() for t in (request.query_params.get("types") or "").split(",") if t.strip()}
    ids = {i.strip() for i in (request.query_params.get("ids") or "").split(",") if i.strip()}
    groups: dict[str, list[Message]] = {}
    for action in _actions(sandbox):
        if ids and action.id not in ids:
            continue
        if not ids and ((start and action.ex_date < start) or (end and action.ex_date > end)):
            continue
        if (symbols and action.symbol not in symbols) or (types and action.type not in types):
            continue
        groups.setdefault(f"{action.type}s", []).append(_action_json(action))
    return json_response({"corporate_actions": groups, "next_page_token": None})


def _announcement(action: CorporateAction) -> Message:
    row: Message = {
        "id": action.id,
        "corporate_action_id": action.id,
        "ca_type": _ANNOUNCEMENT_TYPES[action.type],
        "ca_sub_type": _SUB_TYPES[action.type],
        "initiating_symbol": action.symbol,
        "initiating_original_cusip": "",
        "target_symbol": action.symbol,
        "target_original_cusip": "",
        "ex_date": action.ex_date.isoformat(),
        "effective_date": action.ex_date.isoformat(),
        "cash": num(action.rate),
        "old_rate": num(action.old_rate),
        "new_rate": num(action.new_rate),
    }
    for name in ("declaration_date", "record_date", "payable_date"):
        value = getattr(action, name)
        if value is not None:
            row[name] = value.isoformat()
    return row


async def announcements(request: Request) -> Response:
    sandbox = _sandbox(request)
    raw_types = request.query_params.get("ca_types") or ""
    ca_types = {t.strip().lower() for t in raw_types.split(",") if t.strip()}
    since, until = _day(request, "since", None), _day(request, "until", None)
    if not ca_types or since is None or until is None:
        raise SandboxHTTPError(422, "ca_types, since and until are required")
    if until < since or (until - since).days > 90:
        raise SandboxHTTPError(422, "since and until must be at most 90 days apart, in order")
    symbol = (request.query_params.get("symbol") or "").upper()
    date_type = request.query_params.get("date_type") or "ex_date"
    if date_type not in ("declaration_date", "ex_date", "record_date", "payable_date"):
        raise SandboxHTTPError(422, f"invalid date_type {date_type!r}")
    rows = []
    for action in _actions(sandbox):
        day = getattr(action, date_type)
        if _ANNOUNCEMENT_TYPES[action.type] not in ca_types or day is None:
            continue
        if since <= day <= until and (not symbol or action.symbol == symbol):
            rows.append(_announcement(action))
    return json_response(rows)


async def announcement(request: Request) -> Response:
    wanted = request.path_params["id"]
    for action in _actions(_sandbox(request)):
        if action.id == wanted:
            return json_response(_announcement(action))
    raise SandboxHTTPError(404, f"corporate action announcement {wanted} not found")


def reference_routes() -> list[Route]:
    return [
        Route("/v2/stocks/auctions", auctions, methods=["GET"]),
        Route("/v2/stocks/{symbol}/auctions", auctions, methods=["GET"]),
        Route("/v2/stocks/meta/conditions/{ticktype}", conditions, methods=["GET"]),
        Route("/v2/stocks/meta/exchanges", exchanges, methods=["GET"]),
        Route("/v1beta1/screener/stocks/most-actives", most_actives, methods=["GET"]),
        Route("/v1beta1/screener/{market_type}/movers", movers, methods=["GET"]),
        Route("/v1beta1/news", news, methods=["GET"]),
        Route("/v1/corporate-actions", corporate_actions, methods=["GET"]),
        Route("/v2/corporate_actions/announcements", announcements, methods=["GET"]),
        Route("/v2/corporate_actions/announcements/{id}", announcement, methods=["GET"]),
    ]
