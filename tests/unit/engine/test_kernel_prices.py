"""``LastPrices``: risk's mapping of last prices over the kernel's price book."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stockyard.engine._kernel_prices import LastPrices, PriceBook
from stockyard.risk import LastPrice
from stockyard.strategy import BarRow

T0_NS = 1_704_205_800_000_000_000


def test_get_answers_what_indexing_answers_and_none_or_the_default_when_unseen() -> None:
    book = PriceBook()
    book.bars["AAPL"] = BarRow("AAPL", T0_NS, 100.0, 101.0, 99.0, 100.25, 1e4)
    book.spans["AAPL"] = 60_000_000_000
    prices = LastPrices(book)
    found = prices.get("AAPL")
    assert found == prices["AAPL"]
    assert found == LastPrice(Decimal("100.25"), datetime(2024, 1, 2, 14, 31, tzinfo=UTC))
    assert prices.get("MSFT") is None
    fallback = LastPrice(Decimal(1), datetime(2024, 1, 1, tzinfo=UTC))
    assert prices.get("MSFT", fallback) is fallback
    assert "MSFT" not in prices
    with pytest.raises(KeyError):
        prices["MSFT"]
