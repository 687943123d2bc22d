"""The Grafana dashboard and the Prometheus example refer only to metrics we export."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stockyard.api import create_app
from stockyard.config import load_settings
from stockyard.engine import TRADING_METRIC_NAMES, trading_collector
from stockyard.health import METRIC_NAMES, HealthService
from stockyard.store import SqlAlertStore, SqlMetricsHistory, open_database

DEPLOY = Path(__file__).parents[3] / "deploy"
_NAME = re.compile(r"\b(stockyard_[a-z0-9_]+)\b")


def _exported(tmp_path: Path) -> set[str]:
    """Every metric name GET /metrics serves from the process registry, service running
    and a trading node's metrics attached (a node attaches them while it runs)."""
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    database = open_database(settings)
    service = HealthService.from_settings(
        settings, history=SqlMetricsHistory(database), alerts=SqlAlertStore(database)
    )
    app = create_app(service, on_shutdown=[database.dispose])

    async def scrape() -> str:
        await service.start()
        node = trading_collector().attach("sandbox")
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return (await client.get("/metrics")).text
        finally:
            trading_collector().detach(node)
            await service.stop()
            database.dispose()

    names: set[str] = set()
    for family in text_string_to_metric_families(asyncio.run(scrape())):
        names |= {family.name, *(s.name for s in family.samples)}
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "stockyard.json").read_text(encoding="utf-8"))
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_every_metric_in_the_dashboard_is_exported_by_metrics(tmp_path: Path) -> None:
    exported = _exported(tmp_path)
    used = {name for expr in _dashboard_exprs() for name in _NAME.findall(expr)}
    assert used, "the dashboard queries no metric"
    assert used <= exported, f"not exported: {sorted(used - exported)}"
    assert set(METRIC_NAMES) <= exported
    assert set(TRADING_METRIC_NAMES) <= exported


def test_the_dashboard_is_valid_json_with_unique_panel_ids_and_a_datasource_variable() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "stockyard.json").read_text(encoding="utf-8"))
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["templating"]["list"][0]["type"] == "datasource"


def test_the_prometheus_example_scrapes_metrics_on_the_health_port() -> None:
    text = (DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert "metrics_path: /metrics" in text
    assert '"127.0.0.1:5555"' in text
