"""The dashboard's routes over real services (SQLite store, no node): who may see what, and
bad requests refused with a clear answer and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from stockyard.config import load_settings
from stockyard.dashboard import COOKIE, SignIn, mount_dashboard
from stockyard.health import HealthRegistry, HealthService
from stockyard.resilience import BreakerRegistry, ErrorRegistry
from stockyard.services import Services, build_services
from stockyard.store import SqlAlertStore, open_database


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[TestClient, SignIn, Services]]:
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    database = open_database(settings)
    health = HealthService(  # its own error and breaker registries: nothing shared with others
        registry=HealthRegistry([]),
        interval=30.0,
        timeout=5.0,
        alerts=SqlAlertStore(database),
        errors=ErrorRegistry(),
        breakers=BreakerRegistry(),
    )
    services = build_services(settings, database=database, health=health)
    app = FastAPI()
    signin = mount_dashboard(app, services)
    try:
        with TestClient(app, follow_redirects=False) as client:
            yield client, signin, services
    finally:
        database.dispose()


def _signed_in(client: TestClient, signin: SignIn, scope: str = "admin") -> str:
    token = signin.link_token(name=f"{scope}-user", scope=scope)
    answer = client.get(f"/signin?token={token}")
    assert answer.status_code == 303
    cookie = answer.cookies[COOKIE]
    client.cookies.set(COOKIE, cookie)
    page = client.get("/")
    return page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_without_a_session_pages_send_to_sign_in_and_partials_streams_and_actions_refuse(
    wired: tuple[TestClient, SignIn, Services],
) -> None:
    client, _signin, _services = wired
    assert client.get("/").headers["location"] == "/signin"
    assert client.get("/ui/panel/health").status_code == 401
    assert client.get("/ui/events").status_code == 401
    assert client.post("/ui/actions/kill", data={"confirm": "HALT"}).status_code == 401
    assert client.get("/signin").status_code == 200


def test_a_hub_without_a_node_shows_no_books_tabs(
    wired: tuple[TestClient, SignIn, Services],
) -> None:
    client, signin, _services = wired
    _signed_in(client, signin)
    page = client.get("/").text
    assert 'data-testid="tab-trading"' not in page
    assert 'data-testid="tab-bots"' not in page
    assert client.get("/trading").status_code == 404
    assert client.get("/ui/panel/positions").status_code == 404
    for path in ("/system", "/alerts", "/backtests", "/data"):
        assert client.get(path).status_code == 200, path


def test_bad_requests_get_a_clear_answer(wired: tuple[TestClient, SignIn, Services]) -> None:
    client, signin, _services = wired
    csrf = _signed_in(client, signin)
    unknown = client.get("/ui/events?topics=bars,gossip")
    assert unknown.status_code == 400
    assert "gossip" in unknown.json()["detail"]
    assert client.get("/ui/panel/nope").status_code == 404
    missing = client.get("/backtests/abcdef123456/report")
    assert missing.status_code == 404
    assert "abcdef123456" in missing.json()["detail"]
    no_alert = client.post("/ui/actions/alerts/nope/ack", headers={"X-CSRF-Token": csrf})
    assert no_alert.status_code == 200
    assert "no alert" in no_alert.text  # said in the panel, nothing acknowledged
    launched = client.post(
        "/ui/actions/backtests",
        headers={"X-CSRF-Token": csrf},
        data={"strategy": "sma_cross", "symbols": "aapl; drop", "source": "synthetic"},
    )
    assert "Not launched: symbols" in launched.text
    _, _, services = wired
    assert services.research.jobs() == []


def test_actions_need_the_csrf_token_and_the_scope_and_are_audited(
    wired: tuple[TestClient, SignIn, Services],
) -> None:
    client, signin, services = wired
    csrf = _signed_in(client, signin, scope="read")
    refused = client.post("/ui/actions/breakers/x/reset", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    assert "admin scope" in refused.json()["detail"]
    client.cookies.clear()
    csrf = _signed_in(client, signin, scope="admin")
    assert client.post("/ui/actions/breakers/x/reset").status_code == 403  # no CSRF token
    answer = client.post("/ui/actions/breakers/x/reset", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200
    assert "no breaker" in answer.text
    entries = services.access.audit(action="breakers.reset")
    assert [(e.key_name, e.ok) for e in entries] == [("admin-user", False)]


def test_the_errors_panel_shows_an_error_recorded_with_its_context(
    wired: tuple[TestClient, SignIn, Services],
) -> None:
    client, signin, services = wired
    _signed_in(client, signin, scope="read")
    registry = services.system.health_service.errors_registry
    registry.record(ValueError("price was NaN for AAPL"), component="data_pipeline")
    panel = client.get("/ui/panel/errors")
    assert panel.status_code == 200
    assert "data_pipeline: price was NaN for AAPL" in panel.text
    assert "1 times" in panel.text
    assert " UTC</td>" in panel.text
