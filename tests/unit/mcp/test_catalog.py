"""The strategy catalog and documentation as the MCP tools and resources show them."""

from __future__ import annotations

import pytest

from stockyard.mcp import strategy_catalog, strategy_doc
from stockyard.services import ServiceError
from stockyard.strategy import available_strategies


def test_every_registered_strategy_is_listed_with_its_declared_parameters() -> None:
    catalog = {s.name: s for s in strategy_catalog()}
    assert sorted(catalog) == available_strategies()
    sma = catalog["sma_cross"]
    params = {p.name: p for p in sma.params}
    assert {"fast", "slow", "qty"} <= set(params)
    assert params["fast"].type == "int"
    assert params["qty"].changeable is True
    assert sma.summary


def test_a_strategy_s_documentation_has_its_parameter_table() -> None:
    doc = strategy_doc("sma_cross")
    assert doc.startswith("# sma_cross\n")
    assert "| fast | int |" in doc


def test_an_unknown_strategy_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ServiceError) as caught:
        strategy_doc("sma_crosss")
    assert caught.value.status == 404
    assert "sma_cross" in caught.value.message
