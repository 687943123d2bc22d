"""Historical quotes and trades, one-symbol endpoints, adjustments, feeds, order books,
the screener, news and corporate actions, through alpaca-py where it has the call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical.corporate_actions import CorporateActionsClient
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import (
    CorporateActionsRequest,
    CryptoLatestOrderbookRequest,
    CryptoTradesRequest,
    StockBarsRequest,
    StockQuotesRequest,
    StockSnapshotRequest,
    StockTradesRequest,
)
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.enums import CorporateActionType
from alpaca.trading.requests import GetCorporateAnnouncementsRequest
from tests.integration.sandbox.conftest import KEY, SECRET, START, Harness, _start, make_config

from stockyard.sandbox import StreamLimits
from stockyard.sandbox._reference import CorporateAction, ReferenceData


def _stocks(sandbox: Harness) -> StockHistoricalDataClient:
    return StockHistoricalDataClient(KEY, SECRET, url_override=sandbox.server.base_url)


def test_historical_trades_are_the_ticks_the_replay_released(sandbox: Harness) -> None:
    sandbox.advance(10 * 60)
    live = sandbox.sandbox.market.state("AAPL")
    assert live is not None
    assert live.trade is not None
    trades = _stocks(sandbox).get_stock_trades(StockTradesRequest(
        symbol_or_symbols="AAPL", start=START, end=sandbox.sandbox.clock.now()))  # fmt: skip
    rows = trades["AAPL"]
    assert len(rows) >= 40  # four trades a minute
    assert rows[-1].id == live.trade_id
    assert rows[-1].price == pytest.approx(live.trade.price)
    assert [r.timestamp for r in rows] == sorted(r.timestamp for r in rows)
    assert rows[-1].timestamp <= sandbox.sandbox.clock.now()


def test_historical_quotes_page_through_every_row_once(sandbox: Harness) -> None:
    sandbox.advance(5 * 60)
    params = {"symbols": "AAPL,MSFT", "start": START.isoformat(), "limit": "9"}
    seen: list[tuple[str, str]] = []
    token = None
    while True:
        page = sandbox.http.get("/v2/stocks/quotes", params={**params, **(
            {"page_token": token} if token else {})}).json()  # fmt: skip
        seen += [(s, q["t"]) for s, rows in page["quotes"].items() for q in rows]
        token = page["next_page_token"]
        if token is None:
            break
    whole = _stocks(sandbox).get_stock_quotes(StockQuotesRequest(
        symbol_or_symbols=["AAPL", "MSFT"], start=START))  # fmt: skip
    assert len(seen) == len(set(seen)) == len(whole["AAPL"]) + len(whole["MSFT"])


def test_one_symbol_endpoints_answer_with_their_symbol(sandbox: Harness) -> None:
    http = sandbox.http
    bars = http.get(
        "/v2/stocks/AAPL/bars", params={"timeframe": "1Min", "start": START.isoformat()}
    )
    assert bars.json()["symbol"] == "AAPL"
    assert len(bars.json()["bars"]) == 2
    assert http.get("/v2/stocks/AAPL/trades/latest").json()["trade"]["p"] > 0
    assert http.get("/v2/stocks/AAPL/quotes/latest").json()["quote"]["ap"] > 0
    snap = _stocks(sandbox).get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols="AAPL"))
    assert snap["AAPL"].latest_trade.price > 0
    single = http.get("/v2/stocks/AAPL/snapshot").json()
    assert single["symbol"] == "AAPL"
    assert "latestQuote" in single
    assert http.get("/v2/stocks/NOPE/trades/latest").status_code == 404


@pytest.fixture
def with_actions() -> Iterator[Harness]:
    actions = (
        CorporateAction(type="forward_split", symbol="AAPL", ex_date=date(2024, 3, 4),
                        old_rate=Decimal(1), new_rate=Decimal(4)),
        CorporateAction(type="cash_dividend", symbol="MSFT", ex_date=date(2024, 3, 1),
                        rate=Decimal("0.75")),
    )  # fmt: skip
    yield from _start(make_config(reference=ReferenceData(corporate_actions=actions)))


def test_split_adjusted_bars_scale_prices_down_and_volume_up(with_actions: Harness) -> None:
    client = _stocks(with_actions)
    request = {"symbol_or_symbols": "AAPL", "timeframe": TimeFrame.Day,
               "start": START - timedelta(days=7), "end": START}  # fmt: skip
    raw = client.get_stock_bars(StockBarsRequest(**request, adjustment=Adjustment.RAW))["AAPL"]
    split = client.get_stock_bars(StockBarsRequest(**request, adjustment=Adjustment.SPLIT))["AAPL"]
    assert len(raw) == len(split) >= 3
    for r, s in zip(raw, split, strict=True):
        assert s.close == pytest.approx(r.close / 4, rel=1e-6)
        assert s.volume == pytest.approx(r.volume * 4, rel=1e-6)


def test_dividend_adjustment_scales_bars_before_the_ex_date_only(with_actions: Harness) -> None:
    client = _stocks(with_actions)
    request = {"symbol_or_symbols": "MSFT", "timeframe": TimeFrame.Day,
               "start": START - timedelta(days=7), "end": START}  # fmt: skip
    raw = client.get_stock_bars(StockBarsRequest(**request, adjustment=Adjustment.RAW))["MSFT"]
    adj = client.get_stock_bars(StockBarsRequest(**request, adjustment=Adjustment.DIVIDEND))["MSFT"]
    ex_date = date(2024, 3, 1)
    before = [(r, a) for r, a in zip(raw, adj, strict=True) if r.timestamp.date() < ex_date]
    assert before
    factor = 1 - 0.75 / before[-1][0].close  # against the close before the ex date
    assert all(a.close == pytest.approx(r.close * factor, rel=1e-4) for r, a in before)
    after = [(r, a) for r, a in zip(raw, adj, strict=True) if r.timestamp.date() >= ex_date]
    assert after
    assert all(a.close == r.close for r, a in after)


def test_announcements_and_corporate_actions_come_from_the_local_store(
    with_actions: Harness,
) -> None:
    trading = with_actions.trading()
    # alpaca-py deprecates announcements; Alpaca still serves them.
    with pytest.warns(DeprecationWarning, match="get_corporate_announcements"):
        found = trading.get_corporate_announcements(GetCorporateAnnouncementsRequest(
            ca_types=[CorporateActionType.SPLIT, CorporateActionType.DIVIDEND],
            since=date(2024, 2, 1), until=date(2024, 3, 31)))  # fmt: skip
    assert sorted(a.initiating_symbol for a in found) == ["AAPL", "MSFT"]
    one = trading.get_corporate_announcement_by_id(found[0].id)
    assert one.id == found[0].id
    client = CorporateActionsClient(KEY, SECRET, url_override=with_actions.server.base_url)
    actions = client.get_corporate_actions(CorporateActionsRequest(
        symbols=["AAPL", "MSFT"], start=date(2024, 2, 1), end=date(2024, 3, 31)))  # fmt: skip
    splits = actions["forward_splits"]
    assert [(s.symbol, s.new_rate) for s in splits] == [("AAPL", 4)]
    assert [d.symbol for d in actions["cash_dividends"]] == ["MSFT"]


def test_an_unknown_adjustment_or_feed_is_a_400(sandbox: Harness) -> None:
    bad = sandbox.http.get("/v2/stocks/bars", params={"symbols": "AAPL", "timeframe": "1Min",
                                                      "adjustment": "magic"})  # fmt: skip
    assert bad.status_code == 400
    assert "adjustment" in bad.json()["message"]
    feed = sandbox.http.get("/v2/stocks/bars/latest", params={"symbols": "AAPL", "feed": "nyse"})
    assert feed.status_code == 400


def test_recent_sip_data_is_refused_without_the_entitlement() -> None:
    harness = _start(make_config(limits=StreamLimits(sip=False)))
    sandbox = next(harness)
    with pytest.raises(APIError) as refused:
        _stocks(sandbox).get_stock_bars(StockBarsRequest(
            symbol_or_symbols="AAPL", timeframe=TimeFrame.Minute, start=START,
            feed=DataFeed.SIP))  # fmt: skip
    assert refused.value.status_code == 403
    assert "SIP" in str(refused.value)
    old = sandbox.http.get("/v2/stocks/bars", params={"symbols": "AAPL", "timeframe": "1Day",
        "start": "2024-02-01", "end": "2024-02-10", "feed": "sip"})  # fmt: skip
    assert old.status_code == 200
    iex = sandbox.http.get("/v2/stocks/bars/latest", params={"symbols": "AAPL", "feed": "iex"})
    assert iex.status_code == 200
    harness.close()


def test_crypto_trades_and_the_top_of_the_book(sandbox: Harness) -> None:
    client = CryptoHistoricalDataClient(KEY, SECRET, url_override=sandbox.server.base_url)
    trades = client.get_crypto_trades(CryptoTradesRequest(symbol_or_symbols="BTC/USD", start=START))
    assert len(trades["BTC/USD"]) >= 4
    books = client.get_crypto_latest_orderbook(CryptoLatestOrderbookRequest(
        symbol_or_symbols=["BTC/USD"]))  # fmt: skip
    book = books["BTC/USD"]
    assert book.bids[0].price < book.asks[0].price


def test_the_screener_ranks_what_was_replayed_and_news_is_empty(sandbox: Harness) -> None:
    actives = sandbox.http.get("/v1beta1/screener/stocks/most-actives", params={"top": 1}).json()
    assert len(actives["most_actives"]) == 1
    volumes = {s: sandbox.sandbox.market.state(s).daily_bar.volume for s in ("AAPL", "MSFT")}  # type: ignore[union-attr]
    assert actives["most_actives"][0]["symbol"] == max(volumes, key=volumes.__getitem__)
    movers = sandbox.http.get("/v1beta1/screener/crypto/movers").json()
    assert movers["market_type"] == "crypto"
    assert {m["symbol"] for m in movers["gainers"] + movers["losers"]} <= {"BTC/USD", "ETH/USD"}
    assert sandbox.http.get("/v1beta1/news").json() == {"news": [], "next_page_token": None}
    codes = sandbox.http.get("/v2/stocks/meta/conditions/trade", params={"tape": "A"}).json()
    assert codes["@"] == "Regular Sale"
    assert sandbox.http.get("/v2/stocks/meta/exchanges").json()["V"] == "IEX"
