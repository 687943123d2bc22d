"""The System tab drives real processes: a real supervisord, the dashboard on a real hub
app, Debian's headless Chromium clicking Restart."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

from stockyard.api import HealthServer, build_health_service
from stockyard.config import ReadinessProbe, load_settings
from stockyard.dashboard import SignIn, mount_dashboard
from stockyard.orchestrator import (
    ProcessSpec,
    ProcessTable,
    RunPaths,
    Supervisor,
    SupervisordProcess,
)
from stockyard.services import Services, build_services
from stockyard.store import open_database

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SLEEPER = "import time; print('ready', flush=True); time.sleep(600)"


class Hub:
    def __init__(self, url: str, signin: SignIn, services: Services, supervisor: Supervisor):
        self.url = url
        self.signin = signin
        self.services = services
        self.supervisor = supervisor


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    spec = ProcessSpec(
        "worker", "custom", sys.executable, ("-c", SLEEPER), readiness=ReadinessProbe(log="ready")
    )
    table = ProcessTable({"worker": spec})
    paths = RunPaths.of(tmp_path, tmp_path / "logs")
    daemon = SupervisordProcess(table, paths)
    daemon.start()
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    database = open_database(settings)
    services = build_services(
        settings, database=database, health=build_health_service(settings, database=database)
    )
    supervisor = Supervisor(table, paths)
    services.processes.attach(supervisor)
    services.processes.start_sampling(services.events.publish, interval_s=0.3)  # sparklines
    app = FastAPI()
    signin = mount_dashboard(app, services, supervisor=supervisor)
    server = HealthServer(app, port=0)
    server.start()
    try:
        supervisor.start("worker")
        yield Hub(server.url, signin, services, supervisor)
    finally:
        server.stop()
        services.processes.close()
        supervisor.close()
        daemon.stop()
        database.dispose()


def _pid(page: Page) -> str:
    return page.text_content("[data-testid=process-worker] [data-testid=process-pid]") or ""


def test_restart_from_the_system_tab_gives_the_process_a_new_pid_and_is_audited(
    hub: Hub, tmp_path: Path
) -> None:
    assert shutil.which(CHROMIUM), "install Debian's chromium: apt-get install -y chromium"
    token = hub.signin.link_token(name="operator", scope="admin")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: dialog.accept())  # the confirmation
            page.goto(f"{hub.url}/signin?token={token}")
            page.goto(f"{hub.url}/system")
            before = _pid(page)
            assert before.isdigit()
            assert hub.supervisor.process("worker").pid == int(before)
            page.click("[data-testid=restart-worker]")
            deadline = time.monotonic() + 30
            while _pid(page) in (before, "–") and time.monotonic() < deadline:
                page.wait_for_timeout(50)
            after = _pid(page)
            page.screenshot(path=str(tmp_path / "system-processes.png"), full_page=True)
        finally:
            browser.close()
    assert after.isdigit()
    assert after != before
    assert hub.supervisor.process("worker").pid == int(after)
    entries = hub.services.access.audit(action="processes.restart")
    assert [(e.key_name, e.ok) for e in entries] == [("operator", True)]


def test_a_read_session_sees_no_process_control_and_is_refused(hub: Hub) -> None:
    token = hub.signin.link_token(name="viewer", scope="read")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{hub.url}/signin?token={token}")
            page.goto(f"{hub.url}/system")
            assert page.locator("[data-testid=process-worker]").is_visible()
            assert page.locator("[data-testid=panel-processes] button").count() == 0
            csrf = page.get_attribute("meta[name=csrf-token]", "content") or ""
            before = hub.supervisor.process("worker").pid
            refused = page.request.post(
                f"{hub.url}/ui/actions/processes/worker/restart", headers={"X-CSRF-Token": csrf}
            )
        finally:
            browser.close()
    assert refused.status == 403
    assert hub.supervisor.process("worker").pid == before


def test_the_system_tab_draws_each_processes_cpu_and_memory_from_its_samples(
    hub: Hub, tmp_path: Path
) -> None:
    token = hub.signin.link_token(name="viewer", scope="read")
    deadline = time.monotonic() + 30
    while len(hub.services.processes.history().get("worker", [])) < 3:
        assert time.monotonic() < deadline, "the sampler took no samples"
        time.sleep(0.05)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{hub.url}/signin?token={token}")
            page.goto(f"{hub.url}/system")
            for key in ("cpu", "rss"):
                spark = f"[data-testid=spark-{key}-worker]"
                page.wait_for_function(
                    f"() => Number(document.querySelector('{spark}')?.dataset.points) >= 2"
                )
                assert page.locator(f"{spark} canvas").count() >= 1
                label = page.get_attribute(spark, "aria-label") or ""
                assert ("% of a core" if key == "cpu" else "MiB") in label
            first = int(page.get_attribute("[data-testid=spark-rss-worker]", "data-points") or 0)
            page.wait_for_function(  # the next samples arrive on the page's event stream
                "n => Number(document.querySelector('[data-testid=spark-rss-worker]')"
                "?.dataset.points) > n",
                arg=first,
            )
            page.screenshot(path=str(tmp_path / "system-sparklines.png"), full_page=True)
        finally:
            browser.close()
    samples = hub.services.processes.history()["worker"]
    assert all(s.rss > 0 for s in samples)  # measured: the worker's resident memory
