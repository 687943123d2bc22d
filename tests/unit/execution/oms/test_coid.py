"""Client order ids: ``{strategy_id}-{sequence}``, safe and deterministic."""

from __future__ import annotations

import pytest

from stockyard.execution.oms import make_client_order_id, parse_client_order_id


def test_a_plain_strategy_id_gives_strategy_dash_sequence() -> None:
    assert make_client_order_id("sma_cross", 7) == "sma_cross-7"
    assert parse_client_order_id("sma_cross-7") == ("sma_cross", 7)


def test_unsafe_or_long_strategy_ids_are_cleaned_tagged_and_fit_alpaca() -> None:
    spaced = make_client_order_id("my bot/AAPL", 3)
    assert spaced.endswith("-3")
    assert " " not in spaced
    assert "/" not in spaced
    assert spaced == make_client_order_id("my bot/AAPL", 3)
    assert spaced != make_client_order_id("my bot_AAPL", 3)  # cleaning never merges two ids
    long = make_client_order_id("x" * 300, 123_456)
    assert len(long) == 128
    assert long.endswith("-123456")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="strategy_id"):
        make_client_order_id("", 1)
    with pytest.raises(ValueError, match="sequence"):
        make_client_order_id("bot", -1)
    assert parse_client_order_id("no-sequence-here") is None
