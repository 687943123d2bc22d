"""Account configurations, portfolio history, watchlists and clock v3 through alpaca-py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import AccountConfiguration
from alpaca.trading.requests import (
    CreateWatchlistRequest,
    GetPortfolioHistoryRequest,
    MarketOrderRequest,
    UpdateWatchlistRequest,
)
from tests.integration.sandbox.conftest import Harness, _start, make_config


def test_account_configurations_are_read_changed_and_enforced(sandbox: Harness) -> None:
    client = sandbox.trading()
    conf = client.get_account_configurations()
    assert conf.fractional_trading is True
    assert conf.suspend_trade is False
    changed = client.set_account_configurations(
        AccountConfiguration(**{**conf.model_dump(), "suspend_trade": True})
    )
    assert changed.suspend_trade is True
    assert client.get_account().trade_suspended_by_user is True
    with pytest.raises(APIError) as refused:
        client.submit_order(MarketOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))  # fmt: skip
    assert refused.value.status_code == 403
    assert client.get_orders() == []


def test_a_bad_configuration_value_is_a_422_and_changes_nothing(sandbox: Harness) -> None:
    bad = sandbox.http.patch("/v2/account/configurations", json={"max_margin_multiplier": "3"})
    assert bad.status_code == 422
    assert "max_margin_multiplier" in bad.json()["message"]
    unknown = sandbox.http.patch("/v2/account/configurations", json={"nope": True})
    assert unknown.status_code == 422
    assert sandbox.http.get("/v2/account/configurations").json()["max_margin_multiplier"] == "4"


def test_portfolio_history_follows_the_equity_the_sandbox_recorded(sandbox: Harness) -> None:
    client = sandbox.trading()
    client.submit_order(MarketOrderRequest(
        symbol="AAPL", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))  # fmt: skip
    sandbox.advance(58 * 60)  # to 11:00 New York, on the 5-minute grid
    history = client.get_portfolio_history(
        GetPortfolioHistoryRequest(period="1D", timeframe="5Min")
    )
    assert history.timeframe == "5Min"
    assert len(history.timestamp) >= 12
    assert all(b - a == 300 for a, b in zip(history.timestamp, history.timestamp[1:], strict=False))
    equity_now = float(client.get_account().equity)
    assert history.equity[-1] == pytest.approx(equity_now, abs=0.01)
    assert history.timestamp[-1] == int(sandbox.sandbox.clock.now().timestamp())
    assert history.profit_loss[-1] == pytest.approx(history.equity[-1] - history.base_value)
    daily = client.get_portfolio_history(GetPortfolioHistoryRequest(timeframe="1D", period="1W"))
    assert daily.timeframe == "1D"
    assert len(daily.equity) == 1  # the sandbox started this session


def test_a_bad_history_period_is_a_422(sandbox: Harness) -> None:
    answer = sandbox.http.get("/v2/account/portfolio/history", params={"period": "forever"})
    assert answer.status_code == 422
    assert "period" in answer.json()["message"]


def test_watchlists_are_created_changed_and_deleted_by_id_and_by_name(sandbox: Harness) -> None:
    client = sandbox.trading()
    made = client.create_watchlist(CreateWatchlistRequest(name="tech", symbols=["AAPL"]))
    assert [a.symbol for a in made.assets] == ["AAPL"]
    client.add_asset_to_watchlist_by_id(made.id, "BTCUSD")
    moved = client.update_watchlist_by_id(made.id, UpdateWatchlistRequest(name="core"))
    assert moved.name == "core"
    assert [a.symbol for a in moved.assets] == ["AAPL", "BTC/USD"]
    fewer = client.remove_asset_from_watchlist_by_id(made.id, "AAPL")
    assert [a.symbol for a in fewer.assets] == ["BTC/USD"]
    assert [w.name for w in client.get_watchlists()] == ["core"]
    by_name = sandbox.http.get("/v2/watchlists:by_name", params={"name": "core"}).json()
    assert by_name["id"] == str(made.id)
    assert sandbox.http.delete("/v2/watchlists:by_name", params={"name": "core"}).status_code == 204
    assert client.get_watchlists() == []


def test_a_watchlist_with_an_unknown_symbol_or_a_used_name_is_refused(sandbox: Harness) -> None:
    http = sandbox.http
    assert http.post("/v2/watchlists", json={"name": "a", "symbols": ["NOPE"]}).status_code == 422
    assert http.post("/v2/watchlists", json={"name": "a"}).status_code == 200
    assert http.post("/v2/watchlists", json={"name": "a"}).status_code == 422
    assert http.post("/v2/watchlists", json={"symbols": ["AAPL"]}).status_code == 422
    missing = http.get("/v2/watchlists/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert len(http.get("/v2/watchlists").json()) == 1


def test_watchlists_configurations_and_history_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    first = _start(make_config(state_path=path))
    sandbox = next(first)
    sandbox.trading().create_watchlist(CreateWatchlistRequest(name="keep", symbols=["MSFT"]))
    sandbox.http.patch("/v2/account/configurations", json={"no_shorting": True})
    before = sandbox.http.get("/v2/account/portfolio/history", params={"period": "1D"}).json()
    first.close()
    again = _start(make_config(state_path=path, start=None))
    sandbox = next(again)
    assert [w.name for w in sandbox.trading().get_watchlists()] == ["keep"]
    assert sandbox.trading().get_account_configurations().no_shorting is True
    after = sandbox.http.get("/v2/account/portfolio/history", params={"period": "1D"}).json()
    assert after["timestamp"][: len(before["timestamp"])] == before["timestamp"]
    again.close()


def test_clock_v3_names_the_phase_and_calendar_v3_the_sessions(sandbox: Harness) -> None:
    clock = sandbox.http.get("/v3/clock", params={"markets": "NYSE"}).json()["clocks"][0]
    assert clock["phase"] == "core"
    assert clock["is_market_day"] is True
    assert clock["market"]["mic"] == "XNYS"
    early = datetime(2024, 3, 4, 12, 0, tzinfo=UTC).isoformat()
    assert (
        sandbox.http.get("/v3/clock", params={"time": early}).json()["clocks"][0]["phase"] == "pre"
    )
    days = sandbox.http.get(
        "/v3/calendar/NYSE", params={"start": "2024-03-01", "end": "2024-03-08"}
    ).json()["calendar"]
    assert [d["date"] for d in days] == [
        "2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"
    ]  # fmt: skip
    assert days[0]["core_start"] == "2024-03-01T09:30:00-05:00"
    assert days[0]["settlement_date"] == "2024-03-04"
    assert sandbox.http.get("/v3/calendar/LSE").status_code == 400
