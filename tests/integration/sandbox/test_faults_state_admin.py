"""Faults at run time, partial fills, state across restarts, and the admin endpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from tests.integration.sandbox.conftest import Harness, _start, make_config

from stockyard.core import Timeframe, table_to_bars
from stockyard.execution import ExchangeConfig
from stockyard.sandbox import SandboxServer, SandboxStateError, StateStore


def test_injected_errors_reach_alpaca_py_as_api_errors(sandbox: Harness) -> None:
    sandbox.http.post("/sandbox/faults", json={"error_rates": {"503": 1.0}})
    with pytest.raises(APIError) as failed:
        sandbox.trading().get_account()
    assert failed.value.status_code == 503
    assert sandbox.http.get("/sandbox/status").status_code == 200  # admin is never faulted
    sandbox.http.post("/sandbox/faults", json={})
    assert sandbox.trading().get_account().cash == "100000"


def test_the_rate_limit_answers_429_with_retry_after(sandbox: Harness) -> None:
    sandbox.http.post("/sandbox/faults", json={"rate_limit_per_s": 2})
    statuses = [sandbox.http.get("/v2/clock") for _ in range(4)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["message"] == "too many requests"


def test_latency_and_timeouts_are_injected(sandbox: Harness) -> None:
    sandbox.http.post("/sandbox/faults", json={"latency_ms": 150})
    started = time.monotonic()
    assert sandbox.http.get("/v2/clock").status_code == 200
    assert time.monotonic() - started >= 0.15
    sandbox.http.post("/sandbox/faults", json={"timeout_rate": 1.0, "timeout_s": 0.2})
    assert sandbox.http.get("/v2/clock").status_code == 504


def test_a_profile_can_be_chosen_at_run_time(sandbox: Harness) -> None:
    body = sandbox.http.post("/sandbox/faults", json={"profile": "lossy"}).json()
    assert body["md_drop_rate"] == 0.05
    assert sandbox.http.get("/sandbox/faults").json() == body


@pytest.fixture
def participating() -> Iterator[Harness]:
    yield from _start(make_config(exchange=ExchangeConfig(fill_on_submit=True, participation=0.01)))


def test_volume_participation_gives_partial_fills(participating: Harness) -> None:
    sandbox = participating
    now = sandbox.sandbox.clock.now()
    table = sandbox.sandbox.source.get_bars(
        ["AAPL"], Timeframe.MINUTE, now, now + timedelta(minutes=1)
    )
    (bar,) = table_to_bars(table["AAPL"], symbol="AAPL", timeframe=Timeframe.MINUTE)
    # A buy at the bar's low: every ask sits above it, one synthesised print touches it.
    order = sandbox.trading().submit_order(LimitOrderRequest(
        symbol="AAPL", qty=500, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
        limit_price=round(bar.low, 2) if round(bar.low, 2) <= bar.low else bar.low))  # fmt: skip
    sandbox.advance(60)
    after = sandbox.trading().get_order_by_id(order.id)
    assert after.status is OrderStatus.PARTIALLY_FILLED
    assert 0 < float(after.filled_qty or 0) < 500


def test_set_cash_move_clock_and_reset(sandbox: Harness) -> None:
    http = sandbox.http
    assert http.post("/sandbox/cash", json={"cash": "5000"}).json() == {"cash": "5000"}
    assert sandbox.trading().get_account().cash == "5000"
    before = sandbox.trading().get_clock().timestamp
    moved = http.post("/sandbox/clock", json={"seconds": 600}).json()
    assert moved["released"] > 0
    assert sandbox.trading().get_clock().timestamp >= before + timedelta(seconds=600)
    sandbox.trading().submit_order(MarketOrderRequest(
        symbol="MSFT", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))  # fmt: skip
    http.post("/sandbox/reset")
    assert sandbox.trading().get_account().cash == "100000"
    assert sandbox.trading().get_all_positions() == []


def test_a_restarted_sandbox_keeps_its_state_and_reset_forgets_it(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    first = _start(make_config(state_path=path))
    sandbox = next(first)
    order = sandbox.trading().submit_order(MarketOrderRequest(
        symbol="AAPL", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))  # fmt: skip
    clock = sandbox.sandbox.clock.now()
    first.close()
    again = _start(make_config(state_path=path, start=None))
    sandbox = next(again)
    assert sandbox.trading().get_order_by_id(order.id).status is OrderStatus.FILLED
    assert sandbox.trading().get_open_position("AAPL").qty == "2"
    assert sandbox.sandbox.clock.now() >= clock
    again.close()
    fresh = _start(make_config(state_path=path, reset=True))
    sandbox = next(fresh)
    assert sandbox.trading().get_all_positions() == []
    fresh.close()


def test_a_restart_with_other_keys_opens_their_account_and_keeps_the_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sandbox.db"
    first = _start(make_config(state_path=path))
    sandbox = next(first)
    sandbox.trading().submit_order(MarketOrderRequest(
        symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))  # fmt: skip
    first_account = sandbox.sandbox.config.account_id
    first.close()
    other = _start(make_config(state_path=path, start=None, key_id="OTHERKEY", secret_key="s2"))
    sandbox = next(other)
    client = TradingClient("OTHERKEY", "s2", url_override=sandbox.server.base_url)
    assert client.get_account().cash == "100000"
    assert client.get_all_positions() == []
    assert first_account in sandbox.sandbox.exchange.accounts()
    other.close()
    back = _start(make_config(state_path=path, start=None))
    sandbox = next(back)
    assert sandbox.trading().get_open_position("AAPL").qty == "3"
    back.close()


def test_a_state_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    path.write_bytes(b"this is a text file, not SQLite\n" * 10)
    with pytest.raises(SandboxStateError) as refused:
        SandboxServer(make_config(state_path=path))
    message = str(refused.value)
    assert "\n" not in message
    assert str(path) in message
    assert "move it away" in message
    assert path.read_bytes().startswith(b"this is a text file")  # nothing lost


def test_a_state_saved_by_another_version_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    store = StateStore.at(path)
    store.save({"version": 99, "exchange": {}})
    store.close()
    with pytest.raises(SandboxStateError, match="another version"):
        SandboxServer(make_config(state_path=path))
    again = StateStore.at(path)
    assert again.load() == {"version": 99, "exchange": {}}
    again.close()
