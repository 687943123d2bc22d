"""Research runs in the state database: a backtest's results, a walk-forward, a Monte Carlo
run, each stored as the JSON document its exports are written from (``store`` keeps them;
the CLI never writes storage itself). Ids are derived from the documents: the same run
twice is one stored run with the same bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from stockyard.backtest._engine_run import results_json
from stockyard.backtest._results import Results
from stockyard.backtest._walkforward import WalkForwardResult
from stockyard.backtest.metrics import Metrics
from stockyard.backtest.montecarlo import MonteCarloResult
from stockyard.backtest.report import ReportSection, build_report, report_title, write_report
from stockyard.store import Database, ResearchKind, SqlResearchStore

__all__ = [
    "export_run",
    "load_results",
    "store_montecarlo",
    "store_results",
    "store_walkforward",
]

_JSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_SORT_KEYS


def store_results(database: Database, results: Results, metrics: Metrics) -> str:
    """Store a backtest's results (metrics first, as ``results_json`` writes them); its id."""
    figures = metrics.to_dict()
    return SqlResearchStore(database).save(
        kind=ResearchKind.BACKTEST,
        document=results_json(results, metrics),
        strategy=results.strategy,
        symbols=[p.symbol for p in results.prices],
        summary={
            "bars": results.meta.get("bars"),
            "final_equity": figures.get("final_equity"),
            "total_return": figures.get("total_return"),
            "num_trades": figures.get("num_trades"),
            "data": results.data_source,
            "synthetic": results.synthetic,
            "slippage": results.meta.get("slippage"),
        },
    )


def load_results(database: Database, run_id: str) -> Results:
    """The results of the stored backtest ``run_id``; ``store.UnknownRunError`` when the
    database holds no backtest of that id."""
    document = SqlResearchStore(database).document(run_id, kind=ResearchKind.BACKTEST)
    return Results.from_json(document)


def store_walkforward(
    database: Database, result: WalkForwardResult, *, strategy: str, symbols: Sequence[str]
) -> str:
    """Store a walk-forward's answer (``to_dict``); its id."""
    return SqlResearchStore(database).save(
        kind=ResearchKind.WALKFORWARD,
        document=orjson.dumps(result.to_dict(), option=_JSON),
        strategy=strategy,
        symbols=symbols,
        summary={
            "objective": result.objective,
            "windows": len(result.windows),
            "efficiency": result.efficiency,
            "search": result.search,
        },
    )


def store_montecarlo(
    database: Database,
    runs: Sequence[MonteCarloResult],
    *,
    source: str,
    strategy: str | None,
    symbols: Sequence[str],
) -> tuple[str, dict[str, object]]:
    """Store the Monte Carlo runs of one source (a stored backtest's id or a file): its id
    and the document (``results``: the source, ``runs``: each method's summary)."""
    document: dict[str, object] = {"results": source, "runs": [r.summary() for r in runs]}
    run_id = SqlResearchStore(database).save(
        kind=ResearchKind.MONTECARLO,
        document=orjson.dumps(document, option=_JSON),
        strategy=strategy,
        symbols=symbols,
        summary={"source": source, "methods": ",".join(r.method for r in runs)},
    )
    return run_id, document


def export_run(
    database: Database,
    run_id: str,
    *,
    json_path: Path | None = None,
    html_path: Path | None = None,
    extra_sections: Sequence[ReportSection] = (),
) -> Mapping[str, str]:
    """Write the stored run ``run_id`` out: its JSON document as stored, and (a backtest)
    its HTML report, with ``extra_sections`` (such as a model's) after the standard ones.
    The paths written, by kind of export."""
    store = SqlResearchStore(database)
    document = store.document(run_id)
    found = store.run(run_id)
    assert found is not None  # document() found it just above
    written: dict[str, str] = {}
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(document)
        written["json"] = str(json_path)
    if html_path is not None:
        if found.kind is not ResearchKind.BACKTEST:
            raise ValueError(f"an HTML export is for a backtest; {run_id!r} is a {found.kind}")
        results = Results.from_json(document)
        page = build_report(
            title=report_title(results),
            results=results,
            extra_sections=list(extra_sections),
        )
        write_report(html_path, page)
        written["html"] = str(html_path)
    return written
