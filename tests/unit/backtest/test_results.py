from __future__ import annotations

import numpy as np
import pytest

from stockyard.backtest import EquityCurve, OrderRecord, PriceSeries, Results, Trade
from stockyard.backtest._results import iso_from_ns, ns_from_iso
from stockyard.backtest.metrics import compute_metrics
from stockyard.core import OrderSide, OrderStatus, PositionSide

T0 = 1_704_205_800_000_000_000  # 2024-01-02T14:30:00Z


def _small() -> Results:
    ts = T0 + np.arange(4, dtype=np.int64) * 60_000_000_000
    return Results(
        strategy="demo",
        timeframe="1Min",
        starting_cash=1000.0,
        equity=EquityCurve(
            timestamps=ts,
            equity=[1000.0, 1000.0, 1001.5, 1002.25],
            cash=[1000.0, 900.0, 900.0, 1002.25],
            positions={"X": [0.0, 1.0, 1.0, 0.0]},
        ),
        trades=(
            Trade(
                symbol="X",
                side=PositionSide.LONG,
                qty=1.0,
                entry_time=int(ts[1]),
                entry_price=100.0,
                exit_time=int(ts[3]),
                exit_price=102.25,
                fees=0.0,
                pnl=2.25,
            ),
        ),
        orders=(
            OrderRecord(
                symbol="X",
                side=OrderSide.BUY,
                qty=1.0,
                submitted_at=int(ts[0]),
                status=OrderStatus.FILLED,
                filled_at=int(ts[1]),
                fill_price=100.0,
            ),
        ),
        prices=(
            PriceSeries(
                symbol="X",
                timestamps=ts,
                open=[99.0, 100.0, 101, 102.25],
                close=[100, 100, 101.5, 102.25],
            ),
        ),
        params={"fast": 3, "note": "x"},
        meta={"seed": 7},
    )


def test_results_survive_a_json_round_trip_exactly() -> None:
    results = _small()
    text = results.to_json()
    back = Results.from_json(text)
    assert back == results
    assert back.to_json() == text


def test_a_real_run_round_trips_to_identical_bytes_with_metrics(minute_run: Results) -> None:
    text = minute_run.to_json(extra={"metrics": compute_metrics(minute_run).to_dict()})
    back = Results.from_json(text)
    assert back == minute_run
    assert back.to_json(extra={"metrics": compute_metrics(back).to_dict()}) == text


def test_timestamps_keep_their_nanoseconds_in_json() -> None:
    stamp = T0 + 123
    assert iso_from_ns(stamp).endswith(".000000123Z")
    assert ns_from_iso(iso_from_ns(stamp)) == stamp
    assert iso_from_ns(T0) == "2024-01-02T14:30:00Z"


def test_values_are_read_only_and_equal_by_value() -> None:
    results = _small()
    with pytest.raises(ValueError, match="read-only"):
        results.equity.equity[0] = 5.0
    assert _small().equity == results.equity


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"starting_cash": 0.0}, "starting_cash"),
        ({"strategy": ""}, "strategy"),
        ({"params": {"x": float("nan")}}, "finite"),
        ({"params": {"x": [1]}}, "string, number"),
    ],
)
def test_bad_results_are_refused_with_the_field_named(
    change: dict[str, object], message: str
) -> None:
    good = _small()
    fields = {
        "strategy": good.strategy,
        "timeframe": good.timeframe,
        "starting_cash": good.starting_cash,
        "equity": good.equity,
        "params": good.params,
        **change,
    }
    with pytest.raises(ValueError, match=message):
        Results(**fields)  # type: ignore[arg-type]


def test_an_equity_curve_needs_increasing_times_and_finite_values() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        EquityCurve(timestamps=[2, 1], equity=[1.0, 1.0], cash=[1.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        EquityCurve(timestamps=[1, 2], equity=[1.0, float("nan")], cash=[1.0, 1.0])
    with pytest.raises(ValueError, match="one value per timestamp"):
        EquityCurve(timestamps=[1, 2], equity=[1.0], cash=[1.0, 1.0])


@pytest.mark.parametrize(
    "document",
    [b"not json", b"{}", b'{"format": "stockyard.results/1"}', b"[1, 2]"],
)
def test_a_document_that_is_not_results_gets_a_clear_error(document: bytes) -> None:
    with pytest.raises(ValueError, match=r"results|JSON"):
        Results.from_json(document)


def test_a_trade_knows_its_return_and_what_engines_must_agree_on() -> None:
    trade = _small().trades[0]
    assert trade.return_ == pytest.approx(0.0225)
    assert trade.fill_key == ("X", "long", 1.0, trade.entry_time, 100.0, trade.exit_time, 102.25)
