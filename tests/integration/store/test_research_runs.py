"""Backtests, walk-forwards and Monte Carlo runs in the state database, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from stockyard.backtest import (
    InlinePool,
    Results,
    backtest,
    compute_metrics,
    export_run,
    load_results,
    monte_carlo,
    random_walk,
    results_json,
    store_montecarlo,
    store_results,
    store_walkforward,
    walk_forward,
)
from stockyard.core import SimClock
from stockyard.store import Database, ResearchKind, SqlResearchStore, UnknownRunError
from stockyard.strategy import create_strategy

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _results(seed: int = 1) -> Results:
    data = random_walk(3_000, seed=seed)
    return backtest(data, [create_strategy("sma_cross", symbols=["AAPL"])])


def test_a_backtest_is_stored_once_by_content_and_read_back_the_same(database: Database) -> None:
    results = _results()
    metrics = compute_metrics(results)

    run_id = store_results(database, results, metrics)
    again = store_results(database, _results(), compute_metrics(_results()))

    assert again == run_id  # the same run twice: one stored run
    assert load_results(database, run_id) == results
    assert SqlResearchStore(database).document(run_id) == results_json(results, metrics)
    (listed,) = SqlResearchStore(database).runs(kind=ResearchKind.BACKTEST)
    assert (listed.id, listed.strategy, listed.symbols) == (run_id, "sma_cross", ("AAPL",))
    assert listed.summary["num_trades"] == metrics.num_trades
    assert listed.stored_at.tzinfo is not None


def test_walkforward_and_montecarlo_runs_are_stored_and_listed_by_kind(
    database: Database,
) -> None:
    store = SqlResearchStore(database, clock=SimClock(T0))
    data = random_walk(3_000, seed=2)
    result = walk_forward(
        data, strategy="sma_cross", space={"fast": [5, 8], "slow": [30]}, train=1_000,
        test=500, objective="total_return", pool=InlinePool(),
    )  # fmt: skip
    wf_id = store_walkforward(database, result, strategy="sma_cross", symbols=["AAPL"])
    results = _results(seed=3)
    runs = [monte_carlo(results, method="trades", paths=200, seed=1)]
    mc_id, document = store_montecarlo(
        database, runs, source="a-run", strategy="sma_cross", symbols=["AAPL"]
    )

    assert (
        orjson.loads(store.document(wf_id))["windows"]
        == orjson.loads(orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))[
            "windows"
        ]
    )
    assert orjson.loads(store.document(mc_id)) == orjson.loads(orjson.dumps(document))
    assert [r.id for r in store.runs(kind="walkforward")] == [wf_id]
    assert [r.id for r in store.runs(kind=ResearchKind.MONTECARLO)] == [mc_id]
    assert {r.id for r in store.runs()} == {wf_id, mc_id}


def test_runs_are_listed_newest_first(database: Database) -> None:
    clock = SimClock(T0)
    store = SqlResearchStore(database, clock=clock)
    ids = []
    for n in range(3):
        ids.append(
            store.save(
                kind="backtest", document=f"{{\"n\": {n}}}".encode(), strategy="s",
                symbols=["AAPL"], summary={"n": n},
            )
        )  # fmt: skip
        clock.set(clock.now() + timedelta(minutes=1))

    assert [r.id for r in store.runs()] == ids[::-1]
    assert [r.id for r in store.runs(limit=2)] == ids[:0:-1]


def test_an_unknown_id_or_kind_is_an_error_naming_it(database: Database) -> None:
    store = SqlResearchStore(database)
    run_id = store.save(kind="montecarlo", document=b"{}", strategy=None, symbols=[], summary={})

    with pytest.raises(UnknownRunError, match="nope"):
        store.document("nope")
    with pytest.raises(UnknownRunError, match=run_id):
        load_results(database, run_id)  # a Monte Carlo run is not a backtest


def test_bad_input_is_refused_and_nothing_is_stored(database: Database) -> None:
    store = SqlResearchStore(database)

    with pytest.raises(ValueError, match="summary value 'when'"):
        store.save(kind="backtest", document=b"{}", strategy=None, symbols=[],
                   summary={"when": T0})  # fmt: skip
    with pytest.raises(ValueError, match="symbols"):
        store.save(kind="backtest", document=b"{}", strategy=None, symbols="AAPL", summary={})
    with pytest.raises(ValueError, match="'study'"):
        store.save(kind="study", document=b"{}", strategy=None, symbols=[], summary={})
    with pytest.raises(ValueError, match="document"):
        store.save(kind="backtest", document=b"", strategy=None, symbols=[], summary={})
    assert store.runs() == []


def test_a_stored_backtest_exports_its_json_and_html(database: Database, tmp_path: Path) -> None:
    results = _results(seed=4)
    metrics = compute_metrics(results)
    run_id = store_results(database, results, metrics)

    written = export_run(
        database, run_id, json_path=tmp_path / "r.json", html_path=tmp_path / "r.html"
    )

    assert (tmp_path / "r.json").read_bytes() == results_json(results, metrics)
    assert "<html" in (tmp_path / "r.html").read_text(encoding="utf-8").lower()
    assert written == {"json": str(tmp_path / "r.json"), "html": str(tmp_path / "r.html")}
