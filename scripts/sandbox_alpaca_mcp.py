"""Alpaca's own MCP server (``alpaca-mcp-server``) pointed at a running sandbox.

Run it with the Python of a virtual environment where ``alpaca-mcp-server`` is installed
(its fastmcp pins ``mcp<2``, so not the project's own environment)::

    python3 -m venv /tmp/amcp && /tmp/amcp/bin/pip install alpaca-mcp-server
    stockyard sandbox --port 8799 --key K --secret S &
    /tmp/amcp/bin/python scripts/sandbox_alpaca_mcp.py --url http://127.0.0.1:8799 --key K --secret S

It builds the server exactly as ``alpaca-mcp-server`` does, with its trading base URL set
to the sandbox (the package has no setting for it; its market-data URL is
``DATA_API_URL``), moves the sandbox's clock half an hour so prices exist, calls the stock,
crypto, account, order, position, watchlist and portfolio-history tools through an
in-memory MCP client, and prints one line per tool; exit status 1 if any tool errs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from typing import Any

import httpx

TOOLSETS = "account,trading,watchlists,assets,stock-data,crypto-data"


def _calls(stock: str, crypto: str) -> list[tuple[str, dict[str, Any]]]:
    window = {"start": "2024-03-04T14:30:00Z"}
    run = uuid.uuid4().hex[:8]  # names and client order ids unique to this run
    return [
        ("get_account_info", {}),
        ("get_account_config", {}),
        ("update_account_config", {"fractional_trading": True}),
        ("get_portfolio_history", {"period": "1D", "timeframe": "5Min"}),
        ("get_clock", {}),
        ("get_calendar", {"start": "2024-03-01", "end": "2024-03-08"}),
        ("get_all_assets", {"status": "active"}),
        ("get_asset", {"symbol_or_asset_id": stock}),
        ("place_stock_order", {"symbol": stock, "side": "buy", "qty": "2"}),
        ("place_crypto_order", {"symbol": crypto, "side": "buy", "notional": "500"}),
        (
            "place_stock_order",
            {
                "symbol": stock,
                "side": "buy",
                "qty": "1",
                "type": "limit",
                "limit_price": "1",
                "time_in_force": "gtc",
                "client_order_id": f"mcp-{run}",
            },
        ),  # fmt: skip
        ("get_orders", {"status": "all"}),
        ("get_order_by_client_id", {"client_order_id": f"mcp-{run}"}),
        ("get_all_positions", {}),
        ("get_open_position", {"symbol_or_asset_id": stock}),
        ("get_account_activities", {}),
        ("get_account_activities_by_type", {"activity_type": "FILL"}),
        ("close_position", {"symbol_or_asset_id": stock, "qty": "1"}),
        ("cancel_all_orders", {}),
        ("close_all_positions", {}),
        ("create_watchlist", {"name": f"mcp-{run}", "symbols": [stock]}),
        ("get_watchlists", {}),
        ("get_stock_bars", {"symbols": stock, "timeframe": "1Min", **window}),
        ("get_stock_quotes", {"symbols": stock, "limit": 5, **window}),
        ("get_stock_trades", {"symbols": stock, "limit": 5, **window}),
        ("get_stock_latest_bar", {"symbols": stock}),
        ("get_stock_latest_quote", {"symbols": stock}),
        ("get_stock_latest_trade", {"symbols": stock}),
        ("get_stock_snapshot", {"symbols": stock}),
        ("get_most_active_stocks", {"top": 3}),
        ("get_market_movers", {"market_type": "stocks", "top": 3}),
        ("get_crypto_bars", {"symbols": crypto, "timeframe": "1Min", **window}),
        ("get_crypto_quotes", {"symbols": crypto, "limit": 5, **window}),
        ("get_crypto_trades", {"symbols": crypto, "limit": 5, **window}),
        ("get_crypto_latest_bar", {"symbols": crypto, "loc": "us"}),
        ("get_crypto_latest_quote", {"symbols": crypto, "loc": "us"}),
        ("get_crypto_latest_trade", {"symbols": crypto, "loc": "us"}),
        ("get_crypto_snapshot", {"symbols": crypto, "loc": "us"}),
        ("get_crypto_latest_orderbook", {"symbols": crypto, "loc": "us"}),
    ]


def _text(result: Any) -> str:
    parts = [getattr(c, "text", "") for c in getattr(result, "content", [])]
    return " ".join(p for p in parts if p)[:160]


async def _run(url: str) -> int:
    from alpaca_mcp_server import server  # noqa: PLC0415 - only after the environment is set
    from fastmcp import Client  # noqa: PLC0415

    server.TRADING_API_BASE_URLS["paper"] = url
    mcp = server.build_server()
    failures = 0
    async with Client(mcp) as client:
        names = {t.name for t in await client.list_tools()}
        calls = _calls("AAPL", "BTC/USD")
        made: dict[str, Any] = {}
        for name, args in calls:
            failures += await _call(client, names, name, args, made)
        watchlist = made.get("create_watchlist") or {}
        if isinstance(watchlist, dict) and "id" in watchlist:
            for name, args in (
                ("get_watchlist_by_id", {"watchlist_id": watchlist["id"]}),
                ("add_asset_to_watchlist_by_id", {"watchlist_id": watchlist["id"], "symbol": "MSFT"}),
                ("remove_asset_from_watchlist_by_id", {"watchlist_id": watchlist["id"], "symbol": "MSFT"}),
                ("update_watchlist_by_id", {"watchlist_id": watchlist["id"], "symbols": ["SPY"]}),
                ("delete_watchlist_by_id", {"watchlist_id": watchlist["id"]}),
            ):  # fmt: skip
                failures += await _call(client, names, name, args, made)
    return failures


async def _call(
    client: Any, names: set[str], name: str, args: dict[str, Any], made: dict[str, Any]
) -> int:
    if name not in names:
        print(f"MISSING {name}")
        return 1
    result = await client.call_tool(name, args, raise_on_error=False)
    data = result.structured_content
    if data is None:  # an answer fastmcp's client does not parse as structured (a list, …)
        try:
            data = json.loads(" ".join(getattr(c, "text", "") for c in result.content))
        except ValueError:
            data = None
    if isinstance(data, dict) and "_alpaca_mcp_security" in data:  # its trust envelope
        data = data.get("data")
    if isinstance(data, dict) and set(data) == {"result"}:
        data = data["result"]
    made[name] = data
    ok = not result.is_error and not (isinstance(data, dict) and data.get("error"))
    print(f"{'ok  ' if ok else 'FAIL'} {name:36} {'' if ok else _text(result)}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    os.environ.update(
        ALPACA_API_KEY=args.key,
        ALPACA_SECRET_KEY=args.secret,
        ALPACA_PAPER_TRADE="true",
        DATA_API_URL=args.url,
        ALPACA_TOOLSETS=TOOLSETS,
    )
    headers = {"APCA-API-KEY-ID": args.key, "APCA-API-SECRET-KEY": args.secret}
    httpx.post(f"{args.url}/sandbox/clock", json={"seconds": 1800}, headers=headers, timeout=120)
    failures = asyncio.run(_run(args.url))
    print(json.dumps({"failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
