from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from stockyard.core import Timeframe
from stockyard.data import SyntheticSource, plant_signal


def _table():  # type: ignore[no-untyped-def]
    start, end = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 12, tzinfo=UTC)
    return SyntheticSource(seed=3).get_bars(["AAPL"], Timeframe.MINUTE, start, end)["AAPL"]


def test_the_planted_signal_is_seeded_and_keeps_bars_valid() -> None:
    table = _table()
    a = plant_signal(table, symbol="AAPL", seed=3)
    assert a.equals(plant_signal(table, symbol="AAPL", seed=3))
    assert not a.equals(plant_signal(table, symbol="AAPL", seed=4))
    o, h, lo, c = (a.column(n).to_numpy() for n in ("open", "high", "low", "close"))
    assert (h >= np.maximum(o, c)).all()
    assert (lo <= np.minimum(o, c)).all()
    assert (lo > 0).all()
    assert a.column("timestamp").equals(table.column("timestamp"))


def test_past_returns_predict_future_ones_only_with_the_signal() -> None:
    table = _table()

    def agreement(closes: np.ndarray) -> float:
        r = np.log(closes)
        past, ahead = r[15:-15] - r[:-30], r[30:] - r[15:-15]
        return float(np.mean(np.sign(past) == np.sign(ahead)))

    plain = agreement(table.column("close").to_numpy())
    planted = agreement(plant_signal(table, symbol="AAPL", seed=3).column("close").to_numpy())
    assert 0.45 < plain < 0.55
    assert planted > 0.6


def test_a_strength_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="strength must be > 0"):
        plant_signal(_table(), symbol="AAPL", seed=3, strength=0.0)
