"""Bad input gets the right 4xx with a clear message, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.sandbox.conftest import HEADERS, Harness


def _state(sandbox: Harness) -> tuple[Any, ...]:
    http = sandbox.http
    return (
        http.get("/v2/account").json()["cash"],
        http.get("/v2/orders", params={"status": "all"}).json(),
        http.get("/v2/positions").json(),
    )


GOOD = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**GOOD, "qty": "-5"}, 422, "qty"),
        ({**GOOD, "qty": "0"}, 422, "qty"),
        ({**GOOD, "qty": "1e15"}, 422, "qty"),
        ({**GOOD, "qty": "NaN"}, 422, "qty"),
        ({**GOOD, "qty": True}, 422, "qty"),
        ({**GOOD, "qty": "ten"}, 422, "qty"),
        ({**GOOD, "qty": [1]}, 422, "qty"),
        ({**GOOD, "side": "hold"}, 422, "side"),
        ({**GOOD, "time_in_force": "forever"}, 422, "time_in_force"),
        ({**GOOD, "type": "limit"}, 422, "limit_price"),
        ({**GOOD, "symbol": "NOPE"}, 422, "not found"),
        ({**GOOD, "symbol": ""}, 422, "symbol"),
        ({**GOOD, "client_order_id": "x" * 200}, 422, "client_order_id"),
        ({k: v for k, v in GOOD.items() if k != "side"}, 422, "side"),
        ({**GOOD, "notional": "100"}, 422, "exactly one of qty or notional"),
    ],
)
def test_a_bad_order_is_refused_and_changes_nothing(
    sandbox: Harness, body: dict[str, object], status: int, words: str
) -> None:
    before = _state(sandbox)
    response = sandbox.http.post("/v2/orders", json=body)
    assert response.status_code == status
    error = response.json()
    assert set(error) == {"code", "message"}
    assert isinstance(error["code"], int)
    assert words in error["message"]
    assert _state(sandbox) == before


def test_malformed_json_is_a_400_and_a_non_object_too(sandbox: Harness) -> None:
    before = _state(sandbox)
    broken = sandbox.http.post("/v2/orders", content=b"{symbol: AAPL", headers=HEADERS)
    assert broken.status_code == 400
    assert "not JSON" in broken.json()["message"]
    listed = sandbox.http.post("/v2/orders", json=[GOOD])
    assert listed.status_code == 400
    assert "JSON object" in listed.json()["message"]
    assert _state(sandbox) == before


def test_an_oversized_body_is_a_413(sandbox: Harness) -> None:
    before = _state(sandbox)
    response = sandbox.http.post("/v2/orders", json={**GOOD, "pad": "x" * 100_000})
    assert response.status_code == 413
    assert "larger than" in response.json()["message"]
    assert _state(sandbox) == before


def test_missing_or_wrong_credentials_are_a_401_everywhere(sandbox: Harness) -> None:
    url = sandbox.server.base_url
    for path in ("/v2/account", "/v2/stocks/bars?symbols=AAPL&timeframe=1Min", "/sandbox/status"):
        bare = httpx.get(f"{url}{path}")
        assert bare.status_code == 401
        assert bare.json()["message"] == "request is not authorized"
        wrong = httpx.get(f"{url}{path}", headers={**HEADERS, "APCA-API-SECRET-KEY": "nope"})
        assert wrong.status_code == 401


def test_bad_query_parameters_are_422_with_the_rule(sandbox: Harness) -> None:
    assert sandbox.http.get("/v2/orders", params={"status": "maybe"}).status_code == 422
    too_many = sandbox.http.get("/v2/orders", params={"limit": "100000"})
    assert too_many.status_code == 422
    assert "limit" in too_many.json()["message"]
    when = sandbox.http.get("/v2/orders", params={"after": "yesterday"})
    assert when.status_code == 422
    assert "RFC 3339" in when.json()["message"]
    close = sandbox.http.delete("/v2/positions/AAPL", params={"qty": "-1"})
    assert close.status_code == 422


def test_unknown_routes_and_ids_are_404s_in_alpacas_shape(sandbox: Harness) -> None:
    missing = sandbox.http.get("/v2/nothing")
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "message"}
    assert sandbox.http.get("/v2/positions/MSFT").status_code == 404
    assert sandbox.http.delete("/v2/orders/not-an-order").status_code == 404
    patch = sandbox.http.patch("/v2/orders/not-an-order", json={"qty": "x"})
    assert patch.status_code == 422
    assert "qty" in patch.json()["message"]


def test_admin_input_is_checked_too(sandbox: Harness) -> None:
    assert sandbox.http.post("/sandbox/cash", json={"cash": "-1"}).status_code == 422
    assert sandbox.http.post("/sandbox/cash", json={"cash": "lots"}).status_code == 422
    back = sandbox.http.post("/sandbox/clock", json={"at": "2000-01-01T00:00:00Z"})
    assert back.status_code == 422
    assert "forward" in back.json()["message"]
    assert sandbox.http.post("/sandbox/speed", json={"speed": "warp"}).status_code == 422
    faults = sandbox.http.post("/sandbox/faults", json={"md_drop_rate": 2})
    assert faults.status_code == 422
    assert "md_drop_rate" in faults.json()["message"]
    assert sandbox.http.post("/sandbox/faults", json={"bogus": 1}).status_code == 422
