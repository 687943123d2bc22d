"""Bars carry what made them (origin, adjustment) into the store and out again; a store
refuses to put bars of another kind beside the ones it holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stockyard.core import Timeframe
from stockyard.data import (
    BarOrigin,
    MixedBarsError,
    ParquetStore,
    Provenance,
    SyntheticSource,
    describe_all,
    import_file,
    origin_of,
    with_origin,
    write_synthetic,
)

START = datetime(2025, 4, 1, tzinfo=UTC)
END = START + timedelta(days=3)


def _bars(symbol: str = "AAPL") -> object:
    return SyntheticSource(seed=3).get_bars([symbol], Timeframe.MINUTE, START, END)[symbol]


def test_synthetic_bars_say_so_and_keep_saying_so_in_the_store(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    write_synthetic(store, symbols=["AAPL"], start=START, end=END, seed=7)
    assert store.origin("AAPL", Timeframe.MINUTE) == BarOrigin("synthetic", "none", "seed 7")
    table = store.get_bars(["AAPL"], Timeframe.MINUTE, START, END)["AAPL"]
    found = Provenance("local", origin_of(table) or BarOrigin("unknown"))
    assert found.synthetic
    assert found.describe() == "synthetic (local store, seed 7)"


def test_raw_bars_are_refused_beside_adjusted_ones_and_nothing_is_written(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    table = _bars()
    adjusted = with_origin(table, BarOrigin("alpaca", "all", "iex feed"))
    store.write("AAPL", Timeframe.MINUTE, adjusted.slice(0, 100))
    raw = with_origin(table, BarOrigin("alpaca", "raw", "iex feed"))
    with pytest.raises(MixedBarsError, match=r"alpaca \(all\).*refusing to add alpaca \(raw\)"):
        store.write("AAPL", Timeframe.MINUTE, raw)
    with pytest.raises(MixedBarsError, match="synthetic"):
        store.write("AAPL", Timeframe.MINUTE, table)  # synthetic beside real: refused too
    held = store.get_bars(["AAPL"], Timeframe.MINUTE, START, END)["AAPL"]
    assert held.num_rows == 100  # nothing was added
    store.write("AAPL", Timeframe.MINUTE, adjusted)  # the same kind appends
    assert store.get_bars(["AAPL"], Timeframe.MINUTE, START, END)["AAPL"].num_rows == len(table)
    assert store.origin("AAPL", Timeframe.MINUTE) == BarOrigin("alpaca", "all", "iex feed")
    assert store.origin("MSFT", Timeframe.MINUTE) is None
    store.write("AAPL", Timeframe.HOUR, with_origin(table, BarOrigin("alpaca", "raw")))  # apart


def test_an_imported_file_is_named_as_the_origin(tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-03-01T00:00:00Z,10,11,9,10,100\n2024-03-01T00:01:00Z,10,11,9,10.5,100\n"
    )
    store = ParquetStore(tmp_path / "store")
    import_file(csv, symbol="MINE", timeframe=Timeframe.MINUTE, store=store)
    assert store.origin("MINE", Timeframe.MINUTE) == BarOrigin("file", "unknown", "mine.csv")


def test_descriptions_name_the_source_and_the_adjustment() -> None:
    alpaca = Provenance("alpaca", BarOrigin("alpaca", "all", "iex feed"))
    assert alpaca.describe() == "Alpaca (iex feed), split- and dividend-adjusted"
    kept = Provenance("local", BarOrigin("alpaca", "raw", "iex feed"))
    assert kept.describe() == "Alpaca via local store (iex feed), raw (not adjusted)"
    legacy = Provenance("local")
    assert legacy.describe() == "local store, adjustment unknown"
    assert Provenance.from_dict(alpaca.to_dict()) == alpaca
    both = describe_all({"AAPL": alpaca, "MSFT": alpaca, "X": legacy})
    assert both == "AAPL, MSFT: Alpaca (iex feed), split- and dividend-adjusted; X: " + (
        "local store, adjustment unknown"
    )
    with pytest.raises(ValueError, match="adjustment"):
        BarOrigin("alpaca", "adjusted")


def test_the_sandbox_is_never_called_alpaca_nor_mixed_with_market_bars(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    table = _bars()
    store.write("AAPL", Timeframe.MINUTE, with_origin(table, BarOrigin("sandbox", "all")))
    with pytest.raises(MixedBarsError, match="sandbox"):
        store.write("AAPL", Timeframe.MINUTE, with_origin(table, BarOrigin("alpaca", "all")))
    served = Provenance("alpaca", BarOrigin("sandbox", "all", "iex feed"))
    assert served.describe() == "the local sandbox (iex feed), split- and dividend-adjusted"
