"""The dashboard as a user meets it: ``stockyard up`` on the sandbox, its one-time sign-in
link opened in a real headless Chromium (Debian's, driven by Playwright), every tab drawn
with the running system's data, with the network blocked except for the hub.

Screenshots of every tab, light and dark, are written under the test's temporary
directory (the path is printed).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, StorageState, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from stockyard.services import AccessService, Caller
from stockyard.store import SqlRunStore, SqlSnapshotStore, open_database

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABS = {
    "/": "overview",
    "/trading": "trading",
    "/system": "system",
    "/bots": "bots",
    "/alerts": "alerts",
    "/backtests": "backtests",
    "/data": "data",
}


STOCKYARD = [sys.executable, "-m", "stockyard"]
PERIOD = ["--start", "2025-04-01", "--end", "2025-04-10", "--source", "synthetic", "--json"]
SANDBOX_KEY = "DASHKEY"
SANDBOX_SECRET = "dash-sandbox-secret-1"


@dataclass(frozen=True)
class Hub:
    url: str
    link: str
    home: Path
    sandbox_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path, sandbox_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    for name in ("LOG_LEVEL", "LOG_DIR", "REDIS_HOST", "REDIS_PORT", "HEALTH_API_PORT"):
        env.pop(name, None)
    return env | {
        "HEALTH_API_PORT": str(_free_port()),
        "STOCKYARD_SANDBOX__PORT": str(sandbox_port),
        "STOCKYARD_SANDBOX__KEY_ID": SANDBOX_KEY,
        "STOCKYARD_SANDBOX__SECRET_KEY": SANDBOX_SECRET,
        "STOCKYARD_HOME": str(home),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def _wait_for_link(err: Path, process: subprocess.Popen[bytes], timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = err.read_text(encoding="utf-8", errors="replace") if err.exists() else ""
        found = re.search(r"one-time link, [^)]*\): (http://\S+/signin\?token=\S+)", text)
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"stockyard up exited early:\n{text}")
        time.sleep(0.05)
    pytest.fail("stockyard up never printed its sign-in link")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    home = tmp_path_factory.mktemp("up")
    err = home / "up.err"
    sandbox_port = _free_port()
    stored = subprocess.run(
        [*STOCKYARD, "backtest", "--strategy", "sma_cross", "--symbols", "AAPL", *PERIOD],
        env=_env(home, sandbox_port),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=home,
    )
    assert stored.returncode == 0, stored.stderr  # a run for the Backtests tab to show
    with err.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "stockyard", "up", "--single-process"],
            env=_env(home, sandbox_port),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=home,
        )
    try:
        link = _wait_for_link(err, process)
        url = link.split("/signin", 1)[0]
        yield Hub(url=url, link=link, home=home, sandbox_url=f"http://127.0.0.1:{sandbox_port}")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard-screenshots")
    print(f"\ndashboard screenshots: {folder}")
    return folder


def _only_the_hub(hub: Hub, blocked: list[str]) -> Callable[[Route], None]:
    def route(route: Route) -> None:
        if route.request.url.startswith(hub.url + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    return route


@dataclass
class SignedIn:
    state: StorageState
    cookie: dict[str, object]
    landed_on: str


@pytest.fixture(scope="module")
def signed_in(browser: Browser, hub: Hub) -> SignedIn:
    """The browser state after opening the one-time link (it can be opened only once)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(hub.link)
        page.wait_for_selector("[data-testid=page-overview]")
        cookie = next(c for c in context.cookies() if c["name"] == "stockyard_session")
        return SignedIn(context.storage_state(), dict(cookie), page.url)
    finally:
        context.close()


def _page(browser: Browser, hub: Hub, signed_in: SignedIn, blocked: list[str], theme: str) -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        color_scheme="dark" if theme == "dark" else "light",
        storage_state=signed_in.state,
    )
    context.set_default_timeout(60_000)  # a deadline on a loaded machine, not a speed target
    page = context.new_page()
    page.route("**/*", _only_the_hub(hub, blocked))
    return page


def test_the_one_time_link_signs_in_with_an_httponly_strict_cookie_and_only_once(
    hub: Hub, signed_in: SignedIn
) -> None:
    assert signed_in.cookie["httpOnly"] is True
    assert signed_in.cookie["sameSite"] == "Strict"
    assert "token=" not in signed_in.landed_on  # the token leaves the address bar
    again = httpx.get(hub.link, timeout=10, follow_redirects=False)
    assert again.status_code == 401
    assert "used or has expired" in again.text
    anonymous = httpx.get(hub.url + "/", timeout=10, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/signin"
    assert httpx.get(hub.url + "/ui/panel/health", timeout=10).status_code == 401


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_tab_renders_the_running_systems_data_offline(
    browser: Browser, hub: Hub, signed_in: SignedIn, shots: Path, theme: str
) -> None:
    blocked: list[str] = []
    page = _page(browser, hub, signed_in, blocked, theme)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for path, name in TABS.items():
            page.goto(hub.url + path)
            page.wait_for_selector(f"[data-testid=page-{name}]")
            page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
            _check_tab(page, name)
            page.screenshot(path=str(shots / f"{name}-{theme}.png"), full_page=True)
    finally:
        page.context.close()
    assert errors == []
    assert blocked == []  # nothing on any page even tried to leave the hub


def _check_tab(page: Page, name: str) -> None:
    if name in ("overview", "trading"):
        assert (page.text_content("[data-testid=equity]") or "").startswith("$")
        assert "Kill switch" in (page.text_content("[data-testid=kill-state]") or "")
        assert page.locator("[data-testid=panel-positions]").is_visible()
    if name == "trading":
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=price-chart]').dataset.bars) > 0",
            timeout=30_000,
        )
        assert page.locator("[data-testid=price-chart] canvas").count() >= 1
        for panel in ("orders", "fills", "pnl"):
            assert page.locator(f"[data-testid=panel-{panel}]").is_visible()
    if name == "bots":
        rows = page.locator("[data-testid=bots-table] tbody tr[data-testid^=bot-]")
        assert rows.count() >= 1
        assert "sma_cross" in (page.text_content("[data-testid=bots-table]") or "")
    if name == "backtests":
        assert page.locator("[data-testid=panel-runs]").is_visible()
    if name in ("overview", "system"):
        status = page.text_content("[data-testid=health-status]")
        assert status in ("pass", "warn", "fail")
        components = page.locator("[data-testid=health-components] tbody tr")
        assert components.count() >= 2
        assert "UTC" in (page.text_content("[data-testid=panel-health] .when") or "")
    if name == "system":
        assert page.locator("[data-testid=panel-breakers]").is_visible()
        bars = page.text_content("[data-testid=rate-bars] [data-testid=rate-value]") or ""
        assert bars.endswith(" bars/s")
        lag = page.text_content("[data-testid=node-status-sandbox] [data-testid=feed-lag]") or ""
        assert lag.endswith(" s since the last market data"), lag
        latency = page.text_content("[data-testid=node-status-sandbox] [data-testid=bar-to-order]")
        assert re.fullmatch(
            r"p50 [\d.]+ ms, p99 [\d.]+ ms over \d+ bars|no order made on a bar yet",
            " ".join((latency or "").split()),
        ), latency
    if name == "alerts":
        assert page.locator("[data-testid=panel-errors]").is_visible()
        assert page.locator("[data-testid=panel-alerts]").is_visible()
    if name == "data":
        rows = page.locator("[data-testid=catalog-row]")
        assert rows.count() >= 1  # the sample set up wrote
        assert "AAPL" in (page.text_content("[data-testid=catalog-table]") or "")
        assert "bars" in (page.text_content("[data-testid=catalog-table]") or "")


def test_a_state_changing_request_without_the_csrf_token_is_refused(
    hub: Hub, signed_in: SignedIn
) -> None:
    cookies = {"stockyard_session": str(signed_in.cookie["value"])}
    answer = httpx.post(hub.url + "/ui/actions/alerts/nope/ack", cookies=cookies, timeout=10)
    assert answer.status_code == 403
    assert "CSRF" in answer.text


def test_the_tabs_are_reachable_from_the_keyboard(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    blocked: list[str] = []
    page = _page(browser, hub, signed_in, blocked, "light")
    try:
        page.goto(hub.url + "/")
        page.wait_for_selector("[data-testid=page-overview]")
        reached: list[str] = []
        for _ in range(12):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.dataset.testid || ''"))
        assert "tab-system" in reached
        assert "tab-data" in reached
    finally:
        page.context.close()


def test_a_stored_runs_report_opens_from_the_hub_with_plotly_from_the_hub(
    browser: Browser, hub: Hub, signed_in: SignedIn, shots: Path
) -> None:
    blocked: list[str] = []
    page = _page(browser, hub, signed_in, blocked, "light")
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    try:
        page.goto(hub.url + "/backtests")
        row = page.locator("[data-testid=run-row]").first
        assert "sma_cross" in (row.text_content() or "")
        data = row.locator("[data-testid=run-data]").text_content() or ""
        assert data.strip(), "the run's row says nothing of its data"  # where its bars came from
        assert "not recorded" not in data, data
        row.locator("a").click()
        page.wait_for_function(
            "() => { const d = document.querySelectorAll('.plotly-graph-div');"
            " return d.length > 0 && [...d].every(g => g.querySelector('svg.main-svg')); }",
            timeout=30_000,
        )
        assert "Strategy" in (page.text_content("dl.run") or "")
        page.screenshot(path=str(shots / "backtest-report-light.png"), full_page=True)
        size = len(page.content())
    finally:
        page.context.close()
    assert blocked == []
    assert hub.url + "/static/vendor/plotly.min.js" in scripts
    assert size < 1_000_000  # plotly itself is not in the page: the hub serves it


def test_a_backtest_launched_from_the_tab_runs_as_a_job_and_lands_in_the_stored_runs(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    page = _page(browser, hub, signed_in, [], "light")
    try:
        page.goto(hub.url + "/backtests")
        before = page.locator("[data-testid=run-row]").count()
        page.fill("[data-testid=launch-symbols]", "MSFT")
        page.fill("[data-testid=launch-start]", "2025-04-01")
        page.fill("[data-testid=launch-end]", "2025-04-04")
        page.select_option("[data-testid=launch-source]", "synthetic")
        page.click("[data-testid=launch-submit]")
        page.wait_for_selector("[data-testid=launch-message]")
        assert "launched: sma_cross on MSFT" in (
            page.text_content("[data-testid=launch-message]") or ""
        )
        try:  # the runs panel is swapped on the job's events (and looks again while it runs)
            page.wait_for_function(
                f"() => document.querySelectorAll('[data-testid=run-row]').length > {before}",
                timeout=90_000,
            )
        except PlaywrightTimeoutError:
            jobs = page.text_content("[data-testid=panel-runs]") or ""
            pytest.fail(f"the launched job's run never showed; the panel reads: {jobs}")
        assert "MSFT" in (page.text_content("[data-testid=runs-table]") or "")
    finally:
        page.context.close()


def test_a_bots_changeable_parameter_is_changed_from_the_bots_tab_and_a_bad_one_is_not(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    page = _page(browser, hub, signed_in, [], "light")
    try:
        page.goto(hub.url + "/bots")
        page.fill("[data-testid=param-sma_cross-qty]", "seven")
        page.click("[data-testid=params-submit-sma_cross]")
        page.wait_for_selector("[data-testid=params-message]")
        assert "Not changed" in (page.text_content("[data-testid=params-message]") or "")
        page.fill("[data-testid=param-sma_cross-qty]", "7")
        page.click("[data-testid=params-submit-sma_cross]")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=params-message]').textContent"
            ".includes('sma_cross: qty=7')"
        )
        page.goto(hub.url + "/bots")
        assert "qty=7" in (page.text_content("[data-testid=bot-sma_cross]") or "")
    finally:
        page.context.close()


def test_the_overview_fits_a_phone(
    browser: Browser, hub: Hub, signed_in: SignedIn, shots: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, storage_state=signed_in.state
    )
    page = context.new_page()
    try:
        page.goto(hub.url + "/")
        page.wait_for_selector("[data-testid=page-overview]")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        page.screenshot(path=str(shots / "overview-phone.png"), full_page=True)
    finally:
        context.close()
    assert overflow <= 0  # nothing wider than the phone: wide tables scroll inside their panel


def _read_key(hub: Hub) -> str:
    database = open_database(f"sqlite:///{hub.home / 'state.db'}")
    try:
        made = AccessService(database).create_key("viewer", "read", caller=Caller.local("test"))
    finally:
        database.dispose()
    return made.secret


def test_a_read_key_signs_in_and_sees_no_control(browser: Browser, hub: Hub) -> None:
    key = _read_key(hub)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(hub.url + "/signin")
        page.fill("[data-testid=signin-key]", key)
        page.click("[data-testid=signin-submit]")
        page.wait_for_selector("[data-testid=page-overview]")
        assert "viewer" in (page.text_content("[data-testid=signed-in-as]") or "")
        for path in TABS:
            page.goto(hub.url + path)
            assert page.locator("main [hx-post]").count() == 0, path  # nothing that acts
            reads = page.locator("main button:not(form[hx-get] button)")  # comparing only reads
            assert reads.count() == 0, path
        assert key not in page.content()
        csrf = page.get_attribute("meta[name=csrf-token]", "content") or ""
        refused = page.request.post(
            hub.url + "/ui/actions/kill",
            headers={"X-CSRF-Token": csrf},
            form={"confirm": "HALT", "flatten": "1"},
        )
        assert refused.status == 403
        assert "trade scope" in refused.text()
    finally:
        context.close()
    wrong = httpx.post(hub.url + "/signin", data={"key": key + "x"}, timeout=10)
    assert wrong.status_code == 401


def _sandbox(hub: Hub, path: str) -> list[dict[str, object]]:
    headers = {"APCA-API-KEY-ID": SANDBOX_KEY, "APCA-API-SECRET-KEY": SANDBOX_SECRET}
    answer = httpx.get(f"{hub.sandbox_url}{path}", headers=headers, timeout=10)
    answer.raise_for_status()
    found: list[dict[str, object]] = answer.json()
    return found


ORDERS = "/v2/orders?status=all&limit=500"


def _manual_orders(hub: Hub) -> set[str]:
    """The client order ids of the orders placed by hand (the ticket's) at the sandbox."""
    ids = (str(o["client_order_id"]) for o in _sandbox(hub, ORDERS))
    return {i for i in ids if i.startswith("manual")}


def test_a_fill_at_the_sandbox_is_marked_on_the_trading_chart_as_it_happens(
    browser: Browser, hub: Hub, signed_in: SignedIn, shots: Path
) -> None:
    blocked: list[str] = []
    page = _page(browser, hub, signed_in, blocked, "light")
    try:
        page.goto(hub.url + "/trading?symbol=AAPL")
        chart = "[data-testid=price-chart]"
        page.wait_for_function(f"() => document.querySelector('{chart}').dataset.markers")
        before = int(page.get_attribute(chart, "data-markers") or "0")
        page.wait_for_function("() => window.htmx && document.querySelector('#chart-feed')")
        page.select_option("[data-testid=ticket-symbol]", "AAPL")
        page.select_option("[data-testid=ticket-side]", "buy")
        page.fill("[data-testid=ticket-qty]", "3")
        page.click("[data-testid=ticket-submit]")
        page.wait_for_selector("[data-testid=ticket-message]")
        message = page.text_content("[data-testid=ticket-message]") or ""
        assert message.startswith("Sent buy 3 AAPL: "), message
        order_id = message.rsplit(": ", 1)[1]
        page.wait_for_function(
            f"() => (document.querySelector('{chart}').dataset.fillOrders || '')"
            f".split(' ').includes('{order_id}')",
            timeout=60_000,
        )
        assert int(page.get_attribute(chart, "data-markers") or "0") > before
        page.wait_for_selector("[data-testid=fills-table] [data-testid=fill-row]")
        assert "AAPL" in (page.text_content("[data-testid=fills-table]") or "")
        page.screenshot(path=str(shots / "trading-after-fill-light.png"), full_page=True)
    finally:
        page.context.close()
    assert blocked == []
    at_sandbox = {o["client_order_id"]: o for o in _sandbox(hub, ORDERS)}
    assert at_sandbox[order_id]["status"] == "filled"  # the fill marked is the sandbox's


def test_a_bad_order_from_the_ticket_is_refused_in_words_and_nothing_reaches_the_sandbox(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    manual_before = _manual_orders(hub)
    page = _page(browser, hub, signed_in, [], "light")
    try:
        page.goto(hub.url + "/trading")
        page.fill("[data-testid=ticket-qty]", "-5")
        page.click("[data-testid=ticket-submit]")
        page.wait_for_selector("[data-testid=ticket-message]")
        message = page.text_content("[data-testid=ticket-message]") or ""
        assert message.startswith("Not sent: qty")
    finally:
        page.context.close()
    assert _manual_orders(hub) == manual_before  # the bots go on trading; no ticket order


def _sandbox_positions(hub: Hub) -> list[object]:
    headers = {"APCA-API-KEY-ID": SANDBOX_KEY, "APCA-API-SECRET-KEY": SANDBOX_SECRET}
    answer = httpx.get(f"{hub.sandbox_url}/v2/positions", headers=headers, timeout=10)
    answer.raise_for_status()
    positions: list[object] = answer.json()
    return positions


def test_the_kill_switch_needs_the_typed_word_and_with_flatten_leaves_the_sandbox_flat(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    blocked: list[str] = []
    page = _page(browser, hub, signed_in, blocked, "light")
    try:
        page.goto(hub.url + "/trading")
        page.fill("[data-testid=kill-confirm]", "halt please")
        page.click("[data-testid=kill-submit]")
        page.wait_for_selector("[data-testid=action-message]")
        assert "nothing was done" in (page.text_content("[data-testid=action-message]") or "")
        assert "off" in (page.text_content("[data-testid=kill-state]") or "")
        page.fill("[data-testid=kill-confirm]", "HALT")
        page.check("[data-testid=kill-flatten]")
        page.click("[data-testid=kill-submit]")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=kill-state]').textContent"
            ".includes('HALTED')"
        )
        deadline = time.monotonic() + 30
        while _sandbox_positions(hub) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _sandbox_positions(hub) == []
        page.fill("[data-testid=resume-confirm]", "RESUME")
        page.click("[data-testid=resume-submit]")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=kill-state]').textContent.includes('off')"
        )
    finally:
        page.context.close()
    assert blocked == []


def test_the_overview_draws_the_nodes_equity_curve_from_its_saved_snapshots(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    blocked: list[str] = []
    page = _page(browser, hub, signed_in, blocked, "light")
    try:
        page.goto(hub.url + "/")
        chart = "[data-testid=equity-chart]"
        page.wait_for_function(
            f"() => Number(document.querySelector('{chart}').dataset.points) > 0"
        )
        assert page.locator(f"{chart} canvas").count() >= 1
        shown = page.text_content("[data-testid=equity-to]") or ""
        assert shown.startswith("$")
        assert "UTC" in shown
        assert (page.text_content("[data-testid=equity-count]") or "").endswith("points")
        page.click("[data-testid=equity-span-all]")
        page.wait_for_selector("[data-testid=equity-span-all][aria-current=true]")
        page.wait_for_function(
            f"() => Number(document.querySelector('{chart}').dataset.points) > 0"
        )
    finally:
        page.context.close()
    assert blocked == []
    saved = open_database(f"sqlite:///{hub.home / 'state.db'}")
    try:  # the curve drawn is from snapshots the node saved (one at its start)
        rows = SqlSnapshotStore(saved).equity_history(
            [r.id for r in SqlRunStore(saved).runs(limit=5)]
        )
    finally:
        saved.dispose()
    assert rows


def _wait_for_job(page: Page, kind: str) -> str:
    row = f"[data-testid^=job-][data-kind={kind}]"
    try:
        page.wait_for_selector(f"{row}[data-state=done], {row}[data-state=failed]", timeout=120_000)
    except PlaywrightTimeoutError:
        pytest.fail(f"the {kind} job never ended: {page.text_content('[data-testid=panel-runs]')}")
    found = page.locator(row).first
    assert found.get_attribute("data-state") == "done", found.text_content()
    return found.locator("[data-testid=job-result]").text_content() or ""


def test_a_walk_forward_and_a_monte_carlo_launched_from_the_tab_run_with_progress(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    page = _page(browser, hub, signed_in, [], "light")
    try:
        page.goto(hub.url + "/backtests")
        page.fill("[data-testid=wf-start]", "2025-04-01")
        page.fill("[data-testid=wf-end]", "2025-04-10")
        page.select_option("[data-testid=wf-source]", "synthetic")
        page.click("[data-testid=wf-submit]")
        page.wait_for_selector("[data-testid=launch-message]")
        assert "launched: walk-forward of sma_cross on AAPL" in (
            page.text_content("[data-testid=launch-message]") or ""
        )
        page.wait_for_selector("[data-testid^=job-][data-kind=walkforward] progress")
        assert "windows" in _wait_for_job(page, "walkforward")
        page.select_option("[data-testid=mc-method]", "blocks")
        page.fill("[data-testid=mc-paths]", "200")
        page.click("[data-testid=mc-submit]")
        page.wait_for_selector("[data-testid=launch-message]:has-text('Monte Carlo')")
        result = _wait_for_job(page, "montecarlo")
        for words in ("200 paths", "P(loss)", "$"):
            assert words in result
    finally:
        page.context.close()


def test_two_stored_runs_are_compared_side_by_side_with_units(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    stored = subprocess.run(  # a second stored run beside the fixture's (AAPL)
        [*STOCKYARD, "backtest", "--strategy", "sma_cross", "--symbols", "NVDA", *PERIOD],
        env=_env(hub.home, int(hub.sandbox_url.rsplit(":", 1)[1])),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=hub.home,
    )
    assert stored.returncode == 0, stored.stderr
    page = _page(browser, hub, signed_in, [], "light")
    try:
        page.goto(hub.url + "/backtests")
        picks = page.locator("[data-testid^=compare-pick-]")
        assert picks.count() >= 2
        picks.nth(0).check()
        picks.nth(1).check()
        page.click("[data-testid=compare-submit]")
        page.wait_for_selector("[data-testid=compare-table]")
        assert page.locator("[data-testid=compare-col]").count() == 2
        assert "%" in (page.text_content("[data-testid=compare-total_return]") or "")
        assert "$" in (page.text_content("[data-testid=compare-final_equity]") or "")
        assert "trades" in (page.text_content("[data-testid=compare-num_trades]") or "")
        page.locator("[data-testid^=compare-pick-]").nth(1).uncheck()
        page.click("[data-testid=compare-submit]")
        page.wait_for_selector("[data-testid=compare-message]")
        assert "select 2 to 8" in (page.text_content("[data-testid=compare-message]") or "")
    finally:
        page.context.close()


def _fetch(page: Page, symbol: str, start: str, end: str) -> None:
    before = page.locator("[data-testid^=fetch-][data-state=done]").count()
    page.fill("[data-testid=fetch-symbols]", symbol)
    page.fill("[data-testid=fetch-start]", start)
    page.fill("[data-testid=fetch-end]", end)
    page.click("[data-testid=fetch-submit]")
    page.wait_for_selector("[data-testid=fetch-message]")
    assert f"fetching {symbol} (1Min, synthetic)" in (
        page.text_content("[data-testid=fetch-message]") or ""
    )
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid^=fetch-][data-state=done]').length > n",
        arg=before,
        timeout=60_000,
    )


def test_data_fetched_from_the_tab_shows_its_progress_and_its_gap_against_the_calendar(
    browser: Browser, hub: Hub, signed_in: SignedIn
) -> None:
    page = _page(browser, hub, signed_in, [], "light")
    try:
        page.goto(hub.url + "/data")
        _fetch(page, "GAPX", "2025-04-01", "2025-04-02")  # Tuesday and Wednesday
        _fetch(page, "GAPX", "2025-04-07", "2025-04-08")  # Monday, Tuesday: 3rd, 4th missing
        done = page.locator("[data-testid^=fetch-][data-state=done]").first
        assert "100 %" in (done.text_content() or "")
        assert "GAPX 780 bars" in (done.text_content() or "")
        row = page.locator("[data-testid=catalog-row][data-series=GAPX-1Min]")
        assert "1 gap" in (row.locator("[data-testid=gap-count]").text_content() or "")
        assert "13.0 h missing of 6 sessions" in (row.text_content() or "")
        gaps = row.locator("[data-testid=gap-list]").text_content() or ""
        assert "2025-04-03 13:30 UTC → 2025-04-04 20:00 UTC" in gaps
        assert "2 sessions" in gaps
    finally:
        page.context.close()
