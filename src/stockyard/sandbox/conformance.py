"""How closely the sandbox follows Alpaca's published API.

``python -m stockyard.sandbox.conformance [--json]``

Starts a sandbox on a free port (state in memory, the clock paused in a trading session),
calls every in-scope operation of Alpaca's Trading and Market Data specifications with a
valid request, and validates each answer against the specification's schema for its status.
Prints the figures (served, conforming, in-scope total) and what does not conform;
``--json`` prints them as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from stockyard.sandbox._config import SandboxConfig
from stockyard.sandbox._reference import CorporateAction, ReferenceData
from stockyard.sandbox._server import SandboxServer
from stockyard.sandbox._spec import (
    Operation,
    SpecUnavailableError,
    in_scope_operations,
    load_specs,
    response_errors,
)

__all__ = ["Call", "ConformanceReport", "main", "run_conformance"]

KEY, SECRET = "CONFORMANCE", "conformance-secret"
# Monday 4 March 2024, 10:00 New York: the market is open.
START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "SPY", "BTC/USD", "ETH/USD")
# A split and a dividend in the local store, so announcements and adjusted bars have data.
REFERENCE = ReferenceData(
    corporate_actions=(
        CorporateAction(type="forward_split", symbol="AAPL", ex_date=date(2024, 2, 20),
                        old_rate=Decimal(1), new_rate=Decimal(2)),
        CorporateAction(type="cash_dividend", symbol="MSFT", ex_date=date(2024, 2, 14),
                        rate=Decimal("0.75"), record_date=date(2024, 2, 15),
                        payable_date=date(2024, 3, 14)),
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Call:
    """One request made and what came of it."""

    operation_id: str
    method: str
    url: str
    status: int
    errors: tuple[str, ...]


@dataclass(slots=True)
class ConformanceReport:
    """Per operation: served (a 2xx to a valid request) and conforming (every answer
    validates against the specification's schema for its status)."""

    operations: list[Operation]
    calls: list[Call] = field(default_factory=list)

    def _calls(self, op: Operation) -> list[Call]:
        return [c for c in self.calls if c.operation_id == op.operation_id]

    def served(self, op: Operation) -> bool:
        return any(200 <= c.status < 300 for c in self._calls(op))

    def conforming(self, op: Operation) -> bool:
        calls = self._calls(op)
        return self.served(op) and all(not c.errors for c in calls)

    def figures(self) -> dict[str, int]:
        return {
            "in_scope": len(self.operations),
            "served": sum(self.served(op) for op in self.operations),
            "conforming": sum(self.conforming(op) for op in self.operations),
        }

    def as_json(self) -> dict[str, object]:
        return {
            **self.figures(),
            "operations": [
                {
                    "operation": op.operation_id,
                    "method": op.method,
                    "path": op.path,
                    "served": self.served(op),
                    "conforming": self.conforming(op),
                    "calls": [
                        {"url": c.url, "status": c.status, "errors": list(c.errors)}
                        for c in self._calls(op)
                    ],
                }
                for op in self.operations
            ],
        }


class _Driver:
    """Makes the calls of the plan and validates each answer."""

    def __init__(self, http: httpx.Client, specs: dict[str, dict[str, Any]]) -> None:
        self.http = http
        self.specs = specs
        self.ops = {op.operation_id: op for op in in_scope_operations(specs)}
        self.report = ConformanceReport(list(self.ops.values()))

    def call(
        self,
        operation_id: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, object] | list[object] | None = None,
    ) -> Any:
        op = self.ops[operation_id]
        response = self.http.request(op.method, url, params=params, json=body)
        errors = response_errors(self.specs, op, response.status_code, response.content)
        full = str(response.request.url).removeprefix(str(self.http.base_url))
        self.report.calls.append(
            Call(operation_id, op.method, full, response.status_code, tuple(errors))
        )
        try:
            return response.json()
        except ValueError:
            return None


def _id(answer: object) -> str:
    """The ``id`` of an answer (the first item of a list), or else a well-formed id that no
    object has, so that the operation is checked against its 404 answer."""
    if isinstance(answer, list) and answer:
        answer = answer[0]
    if isinstance(answer, dict) and isinstance(answer.get("id"), str):
        return str(answer["id"])
    return "00000000-0000-4000-8000-000000000000"


def _trading_plan(d: _Driver) -> None:
    order_body = {"symbol": "AAPL", "qty": "2", "side": "buy", "type": "market"}
    d.call("getAccount", "/v2/account")
    d.call("getAccountConfig", "/v2/account/configurations")
    d.call("patchAccountConfig", "/v2/account/configurations", body={"fractional_trading": True})
    filled = d.call("postOrder", "/v2/orders", body={**order_body, "time_in_force": "day"})
    d.call(
        "postOrder",
        "/v2/orders",
        body={
            "symbol": "BTC/USD",
            "notional": "500",
            "side": "buy",
            "type": "market",
            "time_in_force": "gtc",
        },
    )
    resting = d.call(
        "postOrder",
        "/v2/orders",
        body={
            "symbol": "MSFT",
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "limit_price": "1",
            "time_in_force": "gtc",
            "client_order_id": "conformance-1",
        },
    )
    d.call("getAllOrders", "/v2/orders", params={"status": "all", "nested": "true"})
    d.call("getOrderByOrderID", f"/v2/orders/{_id(filled)}")
    d.call(
        "getOrderByClientOrderId",
        "/v2/orders:by_client_order_id",
        params={"client_order_id": "conformance-1"},
    )
    replaced = d.call(
        "patchOrderByOrderId", f"/v2/orders/{_id(resting)}", body={"limit_price": "2"}
    )
    d.call("deleteOrderByOrderID", f"/v2/orders/{_id(replaced)}")
    d.call(
        "postOrder",
        "/v2/orders",
        body={
            "symbol": "MSFT",
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "limit_price": "1",
            "time_in_force": "day",
        },
    )
    d.call("deleteAllOrders", "/v2/orders")
    d.call("getAllOpenPositions", "/v2/positions")
    d.call("getOpenPosition", "/v2/positions/AAPL")
    d.call("getAccountActivities", "/v2/account/activities")
    d.call("getAccountActivitiesByActivityType", "/v2/account/activities/FILL")
    d.call(
        "getAccountPortfolioHistory",
        "/v2/account/portfolio/history",
        params={"period": "1D", "timeframe": "5Min"},
    )
    d.call(
        "getAccountPortfolioHistory",
        "/v2/account/portfolio/history",
        params={"period": "1W", "timeframe": "1D"},
    )
    d.call("deleteOpenPosition", "/v2/positions/AAPL", params={"qty": "1"})
    d.call("deleteAllOpenPositions", "/v2/positions", params={"cancel_orders": "true"})
    _reference_plan(d)
    _watchlist_plan(d)


def _reference_plan(d: _Driver) -> None:
    assets = d.call("get-v2-assets", "/v2/assets", params={"status": "active"})
    d.call("get-v2-assets-symbol_or_asset_id", "/v2/assets/AAPL")
    d.call("get-v2-assets-symbol_or_asset_id", f"/v2/assets/{_id(assets)}")
    d.call("LegacyCalendar", "/v2/calendar", params={"start": "2024-03-01", "end": "2024-03-08"})
    d.call("Calendar", "/v3/calendar/NYSE", params={"start": "2024-03-01", "end": "2024-03-08"})
    d.call("LegacyClock", "/v2/clock")
    d.call("Clock", "/v3/clock")
    announcements = d.call(
        "get-v2-corporate_actions-announcements",
        "/v2/corporate_actions/announcements",
        params={"ca_types": "dividend,split", "since": "2024-02-01", "until": "2024-03-04"},
    )
    d.call(
        "get-v2-corporate_actions-announcements-id",
        f"/v2/corporate_actions/announcements/{_id(announcements)}",
    )


def _watchlist_plan(d: _Driver) -> None:
    made = d.call("postWatchlist", "/v2/watchlists", body={"name": "tech", "symbols": ["AAPL"]})
    d.call("getWatchlists", "/v2/watchlists")
    url = f"/v2/watchlists/{_id(made)}"
    d.call("getWatchlistById", url)
    d.call("addAssetToWatchlist", url, body={"symbol": "MSFT"})
    d.call("removeAssetFromWatchlist", f"{url}/MSFT")
    d.call("updateWatchlistById", url, body={"name": "tech2", "symbols": ["AAPL", "SPY"]})
    by_name = {"name": "tech2"}
    d.call("getWatchlistByName", "/v2/watchlists:by_name", params=by_name)
    d.call(
        "addAssetToWatchlistByName",
        "/v2/watchlists:by_name",
        params=by_name,
        body={"symbol": "MSFT"},
    )
    d.call(
        "updateWatchlistByName",
        "/v2/watchlists:by_name",
        params=by_name,
        body={"name": "tech3", "symbols": ["AAPL"]},
    )
    d.call("deleteWatchlistByName", "/v2/watchlists:by_name", params={"name": "tech3"})
    other = d.call("postWatchlist", "/v2/watchlists", body={"name": "other"})
    d.call("deleteWatchlistById", f"/v2/watchlists/{_id(other)}")


def _stock_plan(d: _Driver) -> None:
    many = {"symbols": "AAPL,MSFT"}
    window = {"start": "2024-03-04T14:30:00Z", "end": "2024-03-04T16:00:00Z"}
    d.call(
        "StockBars",
        "/v2/stocks/bars",
        params={**many, **window, "timeframe": "1Min", "limit": "10"},
    )
    d.call(
        "StockBars",
        "/v2/stocks/bars",
        params={**many, "timeframe": "1Day", "start": "2024-02-01", "adjustment": "all"},
    )
    d.call("StockBarSingle", "/v2/stocks/AAPL/bars", params={**window, "timeframe": "5Min"})
    d.call("StockLatestBars", "/v2/stocks/bars/latest", params=many)
    d.call("StockLatestBarSingle", "/v2/stocks/AAPL/bars/latest")
    d.call("StockQuotes", "/v2/stocks/quotes", params={**many, **window, "limit": "20"})
    d.call("StockQuoteSingle", "/v2/stocks/AAPL/quotes", params=window)
    d.call("StockLatestQuotes", "/v2/stocks/quotes/latest", params=many)
    d.call("StockLatestQuoteSingle", "/v2/stocks/AAPL/quotes/latest")
    d.call("StockTrades", "/v2/stocks/trades", params={**many, **window, "limit": "20"})
    d.call("StockTradeSingle", "/v2/stocks/AAPL/trades", params=window)
    d.call("StockLatestTrades", "/v2/stocks/trades/latest", params=many)
    d.call("StockLatestTradeSingle", "/v2/stocks/AAPL/trades/latest")
    d.call("StockSnapshots", "/v2/stocks/snapshots", params=many)
    d.call("StockSnapshotSingle", "/v2/stocks/AAPL/snapshot")
    d.call("StockAuctions", "/v2/stocks/auctions", params={**many, "start": "2024-03-01"})
    d.call("StockAuctionSingle", "/v2/stocks/AAPL/auctions", params={"start": "2024-03-01"})
    d.call("StockMetaConditions", "/v2/stocks/meta/conditions/trade", params={"tape": "A"})
    d.call("StockMetaExchanges", "/v2/stocks/meta/exchanges")
    d.call("MostActives", "/v1beta1/screener/stocks/most-actives", params={"top": "3"})
    d.call("Movers", "/v1beta1/screener/stocks/movers", params={"top": "2"})
    d.call("Movers", "/v1beta1/screener/crypto/movers", params={"top": "2"})
    d.call("News", "/v1beta1/news", params={"symbols": "AAPL"})
    d.call(
        "CorporateActions",
        "/v1/corporate-actions",
        params={"symbols": "AAPL,MSFT", "start": "2024-02-01", "end": "2024-03-04"},
    )


def _crypto_plan(d: _Driver) -> None:
    base = "/v1beta3/crypto/us"
    many = {"symbols": "BTC/USD,ETH/USD"}
    window = {"start": "2024-03-04T14:30:00Z", "end": "2024-03-04T16:00:00Z"}
    d.call("CryptoBars", f"{base}/bars", params={**many, **window, "timeframe": "1Min"})
    d.call("CryptoLatestBars", f"{base}/latest/bars", params=many)
    d.call("CryptoQuotes", f"{base}/quotes", params={**many, **window, "limit": "20"})
    d.call("CryptoLatestQuotes", f"{base}/latest/quotes", params=many)
    d.call("CryptoTrades", f"{base}/trades", params={**many, **window, "limit": "20"})
    d.call("CryptoLatestTrades", f"{base}/latest/trades", params=many)
    d.call("CryptoSnapshots", f"{base}/snapshots", params=many)
    d.call("CryptoLatestOrderbooks", f"{base}/latest/orderbooks", params=many)


@contextlib.contextmanager
def _server() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        key_id=KEY,
        secret_key=SECRET,
        port=0,
        symbols=SYMBOLS,
        start=START,
        speed=0.0,
        cash=Decimal(100_000),
        reference=REFERENCE,
    )
    server = SandboxServer(config).start()
    try:
        server.submit(server.sandbox.step_to(START + timedelta(minutes=30))).result(120)
        yield server
    finally:
        server.stop()


def run_conformance(
    *, plans: tuple[Callable[[_Driver], None], ...] | None = None
) -> ConformanceReport:
    """Start a sandbox, call every in-scope operation, validate every answer."""
    specs = load_specs()
    headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    with (
        _server() as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http,
    ):
        driver = _Driver(http, specs)
        for plan in plans or (_trading_plan, _stock_plan, _crypto_plan):
            plan(driver)
        return driver.report


def main(argv: list[str] | None = None) -> int:
    """Print the figures (and what fails); exit 1 unless every operation conforms."""
    parser = argparse.ArgumentParser(prog="python -m stockyard.sandbox.conformance")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        report = run_conformance()
    except SpecUnavailableError as exc:
        print(exc, file=sys.stderr)
        return 2
    figures = report.figures()
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(
            f"served {figures['served']} / conforming {figures['conforming']} "
            f"/ in scope {figures['in_scope']}"
        )
        for op in report.operations:
            if not report.conforming(op):
                calls = [c for c in report.calls if c.operation_id == op.operation_id]
                detail = "; ".join(f"{c.status} {c.url} {list(c.errors)[:3]}" for c in calls)
                print(f"  {op.operation_id:45} {detail or 'not called'}"[:400])
    return 0 if figures["conforming"] == figures["in_scope"] else 1


if __name__ == "__main__":
    sys.exit(main())
