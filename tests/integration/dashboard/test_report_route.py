"""A stored run's report as the hub serves it: plotly from the hub's own asset route (the
file the plotly package ships), the page small, the title saying what the run was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import plotly  # type: ignore[import-untyped]  # ships no type hints
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from stockyard.backtest import backtest, compute_metrics, load_bars, store_results
from stockyard.config import load_settings
from stockyard.dashboard import COOKIE, mount_dashboard
from stockyard.health import HealthRegistry, HealthService
from stockyard.resilience import BreakerRegistry, ErrorRegistry
from stockyard.services import Services, build_services
from stockyard.store import SqlAlertStore, open_database
from stockyard.strategy import create_strategy

PLOTLY = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@pytest.fixture
def hub_with_a_quarter(tmp_path: Path) -> Iterator[tuple[TestClient, str, Services]]:
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    database = open_database(settings)
    bars = load_bars(data=None, symbols=["AAPL"], timeframe=None, start=datetime(2025, 4, 1,
                     tzinfo=UTC), end=datetime(2025, 7, 1, tzinfo=UTC), store_root=tmp_path,
                     source="synthetic", seed=42)  # fmt: skip
    results = backtest(bars, [create_strategy("sma_cross", symbols=bars.names, params={})])
    run_id = store_results(database, results, compute_metrics(results))
    health = HealthService(registry=HealthRegistry([]), interval=30.0, timeout=5.0,
                           alerts=SqlAlertStore(database), errors=ErrorRegistry(),
                           breakers=BreakerRegistry())  # fmt: skip
    app = FastAPI()
    services = build_services(settings, database=database, health=health)
    signin = mount_dashboard(app, services)
    try:
        with TestClient(app, follow_redirects=False) as client:
            token = signin.link_token(name="reader", scope="read")
            client.cookies.set(COOKIE, client.get(f"/signin?token={token}").cookies[COOKIE])
            yield client, run_id, services
    finally:
        database.dispose()


def test_a_stored_quarter_is_served_small_with_plotly_from_the_hub(
    hub_with_a_quarter: tuple[TestClient, str, Services],
) -> None:
    client, run_id, services = hub_with_a_quarter
    [stored] = services.research.runs()  # the listing says what the data was too
    assert (stored.id, stored.data, stored.synthetic) == (run_id, "synthetic (seed 42)", True)
    page = client.get(f"/backtests/{run_id}/report")
    assert page.status_code == 200
    assert len(page.content) < 500_000  # it was 5.4 MB with plotly embedded
    assert page.text.count("<script src='/static/vendor/plotly.min.js'") == 1
    title = "sma_cross on AAPL, 2025-04-01 → 2025-06-30 (synthetic data)"
    assert f"<title>{title} [{run_id}]</title>" in page.text
    assert "<dd data-field='data'>synthetic (seed 42)</dd>" in page.text
    assert "<td>periods</td>" not in page.text
    bundle = client.get("/static/vendor/plotly.min.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert bundle.content == PLOTLY.read_bytes()  # the package's own file, not a copy
