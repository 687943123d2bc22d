"""Faults at run time, partial fills, state across restarts, and the admin endpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from tests.integration.sandbox.conftest import Harness, _start, make_config

from stockyard.core import Timeframe, table_to_bars
from stockyard.execution import ExchangeConfig


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
