"""Market-data REST through alpaca-py's historical clients."""

from __future__ import annotations

from datetime import timedelta

from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestQuoteRequest,
    CryptoSnapshotRequest,
    StockBarsRequest,
    StockLatestBarRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockSnapshotRequest,
)
from alpaca.data.timeframe import TimeFrame
from tests.integration.sandbox.conftest import KEY, SECRET, START, Harness


def _stocks(sandbox: Harness) -> StockHistoricalDataClient:
    return StockHistoricalDataClient(KEY, SECRET, url_override=sandbox.server.base_url)


def test_bars_for_several_symbols_page_through_every_row_once(sandbox: Harness) -> None:
    sandbox.advance(30 * 60)
    request = StockBarsRequest(
        symbol_or_symbols=["AAPL", "MSFT"], timeframe=TimeFrame.Minute,
        start=START, end=START + timedelta(minutes=30),
    )  # fmt: skip
    whole = _stocks(sandbox).get_stock_bars(request)
    assert len(whole["AAPL"]) == 30
    assert len(whole["MSFT"]) == 30
    pages = []
    token = None
    while True:
        params = {"symbols": "AAPL,MSFT", "timeframe": "1Min", "start": START.isoformat(),
                  "end": (START + timedelta(minutes=30)).isoformat(), "limit": 7}  # fmt: skip
        if token:
            params["page_token"] = token
        body = sandbox.http.get("/v2/stocks/bars", params=params).json()
        pages.append(body["bars"])
        token = body["next_page_token"]
        if token is None:
            break
    rows = [(s, r["t"]) for page in pages for s, rs in page.items() for r in rs]
    assert len(rows) == 60
    assert len(set(rows)) == 60
    assert all(sum(len(v) for v in page.values()) <= 7 for page in pages)


def test_bars_never_reach_past_the_replay_clock(sandbox: Harness) -> None:
    request = StockBarsRequest(
        symbol_or_symbols="AAPL", timeframe=TimeFrame.Minute,
        start=START, end=START + timedelta(days=1),
    )  # fmt: skip
    bars = _stocks(sandbox).get_stock_bars(request)["AAPL"]
    now = sandbox.sandbox.clock.now()
    assert bars
    assert all(b.timestamp + timedelta(minutes=1) <= now for b in bars)


def test_latest_trades_quotes_bars_and_snapshots_parse(sandbox: Harness) -> None:
    client = _stocks(sandbox)
    trade = client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL"))
    quote = client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="AAPL"))
    bar = client.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols=["AAPL", "MSFT"]))
    assert trade["AAPL"].price > 0
    assert 0 < quote["AAPL"].bid_price < quote["AAPL"].ask_price
    assert set(bar) == {"AAPL", "MSFT"}
    snapshot = client.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["AAPL", "MSFT"]))
    assert snapshot["AAPL"].latest_trade is not None
    assert snapshot["AAPL"].daily_bar is not None
    assert snapshot["AAPL"].minute_bar is not None


def test_crypto_lives_under_v1beta3(sandbox: Harness) -> None:
    client = CryptoHistoricalDataClient(KEY, SECRET, url_override=sandbox.server.base_url)
    bars = client.get_crypto_bars(
        CryptoBarsRequest(
            symbol_or_symbols=["BTC/USD", "ETH/USD"], timeframe=TimeFrame.Minute, start=START
        )
    )
    assert len(bars["BTC/USD"]) == 2
    assert len(bars["ETH/USD"]) == 2
    quote = client.get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols="BTC/USD"))
    assert quote["BTC/USD"].ask_price > 0
    snap = client.get_crypto_snapshot(CryptoSnapshotRequest(symbol_or_symbols="ETH/USD"))
    assert snap["ETH/USD"].latest_trade is not None


def test_a_stock_endpoint_refuses_a_crypto_symbol_and_vice_versa(sandbox: Harness) -> None:
    wrong = sandbox.http.get("/v2/stocks/bars", params={"symbols": "BTC/USD", "timeframe": "1Min"})
    assert wrong.status_code == 400
    assert "stock symbols" in wrong.json()["message"]
    bad_tf = sandbox.http.get("/v2/stocks/bars", params={"symbols": "AAPL", "timeframe": "7Sec"})
    assert bad_tf.status_code == 400
    assert "timeframe" in bad_tf.json()["message"]
