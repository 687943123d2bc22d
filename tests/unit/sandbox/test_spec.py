from __future__ import annotations

import json

from stockyard.sandbox._spec import (
    OUT_OF_SCOPE,
    Operation,
    in_scope_operations,
    load_specs,
    response_errors,
)


def _op(operation_id: str) -> Operation:
    specs = load_specs()
    return next(o for o in in_scope_operations(specs) if o.operation_id == operation_id)


def test_the_specifications_load_from_the_installed_package_and_leave_options_out() -> None:
    ops = in_scope_operations(load_specs())
    assert len(ops) == 66
    assert not any(o.path.startswith(OUT_OF_SCOPE) for o in ops)
    assert {"getAccount", "StockTrades", "CryptoLatestOrderbooks", "Clock"} <= {
        o.operation_id for o in ops
    }


def test_an_order_without_expires_at_or_with_a_null_intent_does_not_conform() -> None:
    specs = load_specs()
    op = _op("getOrderByOrderID")
    body = {"id": "7b08df51-c1ac-453c-99f9-323a5f075f0d", "type": "market",
            "time_in_force": "day", "notional": None, "expires_at": None,
            "position_intent": None}  # fmt: skip
    errors = response_errors(specs, op, 200, json.dumps(body).encode())
    assert any(e.startswith("expires_at") for e in errors)
    assert any(e.startswith("position_intent") for e in errors)


def test_an_undocumented_status_does_not_conform() -> None:
    errors = response_errors(load_specs(), _op("getAccount"), 404, b"{}")
    assert errors == ["status 404 is not documented for getAccount"]
