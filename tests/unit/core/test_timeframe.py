"""Timeframes parse Alpaca's spellings and refuse lengths Alpaca does not have."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stockyard.core import AssetClass, Timeframe, TimeUnit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Min", Timeframe(1, TimeUnit.MINUTE)),
        ("5T", Timeframe(5, TimeUnit.MINUTE)),
        ("1Hour", Timeframe.HOUR),
        ("4H", Timeframe(4, TimeUnit.HOUR)),
        ("1Day", Timeframe.DAY),
        ("1W", Timeframe.WEEK),
        ("3M", Timeframe(3, TimeUnit.MONTH)),
    ],
)
def test_alpaca_spellings_parse(text: str, expected: Timeframe) -> None:
    assert Timeframe.parse(text) == expected


def test_str_gives_alpacas_spelling_back() -> None:
    for text in ("1Min", "15Min", "1Hour", "1Day", "1Week", "1Month"):
        assert str(Timeframe.parse(text)) == text


@pytest.mark.parametrize("text", ["0Min", "60Min", "24Hour", "2Day", "5Month", "soon"])
def test_lengths_alpaca_does_not_offer_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"timeframe|supported|month|Min|Hour"):
        Timeframe.parse(text)


def test_lengths_are_known_except_for_months() -> None:
    assert Timeframe.MINUTE_5.delta == timedelta(minutes=5)
    assert Timeframe.HOUR.is_intraday
    assert not Timeframe.DAY.is_intraday
    with pytest.raises(ValueError, match="month"):
        _ = Timeframe.MONTH.seconds


def test_crypto_symbols_carry_a_slash() -> None:
    assert AssetClass.of_symbol("BTC/USD") is AssetClass.CRYPTO
    assert AssetClass.of_symbol("AAPL") is AssetClass.STOCK
