"""schemathesis with Alpaca's own specifications against a running sandbox (in-scope
operations): no 5xx, every documented answer validates, and every 4xx has Alpaca's
``{"code", "message"}`` shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from tests.integration.sandbox.conftest import HEADERS, START, make_config

from stockyard.sandbox import SandboxServer
from stockyard.sandbox._spec import in_scope_operations, load_specs

SPECS = load_specs()
IN_SCOPE = {op.api: [] for op in in_scope_operations(SPECS)}  # type: dict[str, list[str]]
for _op in in_scope_operations(SPECS):
    IN_SCOPE[_op.api].append(_op.operation_id)
TRADING = schemathesis.openapi.from_dict(SPECS["trading"]).include(operation_id=IN_SCOPE["trading"])
MARKET_DATA = schemathesis.openapi.from_dict(SPECS["market-data"]).include(
    operation_id=IN_SCOPE["market-data"]
)
SETTINGS = settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    running = SandboxServer(make_config()).start()
    running.submit(running.sandbox.step_to(START + timedelta(minutes=30))).result(60)
    yield running
    running.stop()


def alpaca_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answers ``{"code": int, "message": str}``, as Alpaca's do."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict), f"{response.status_code} body is not an object: {body!r}"
    assert isinstance(body.get("code"), int), f"no integer code in {body!r}"
    assert isinstance(body.get("message"), str), f"no message in {body!r}"
    return True


CHECKS = [not_a_server_error, response_schema_conformance, alpaca_error_shape]


@TRADING.parametrize()
@SETTINGS
def test_trading_api_requests_get_conforming_answers(
    case: schemathesis.Case, server: SandboxServer
) -> None:
    case.call_and_validate(base_url=server.base_url, headers=HEADERS, checks=CHECKS)


@MARKET_DATA.parametrize()
@SETTINGS
def test_market_data_requests_get_conforming_answers(
    case: schemathesis.Case, server: SandboxServer
) -> None:
    case.call_and_validate(base_url=server.base_url, headers=HEADERS, checks=CHECKS)
