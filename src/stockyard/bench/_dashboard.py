"""``stockyard bench dashboard``: how fast the dashboard is in a real Chromium.

A ``stockyard up --single-process`` on the sandbox in a scratch home, its one-time link
opened in Debian's headless Chromium (Playwright), then:

- ``first_paint_ms``: first contentful paint of the Overview in a cold browser context (no
  cache), the median of ``loads`` (``first_paint_p95_ms`` beside it);
- ``page_weight_kb``: every byte the Overview loads (HTML, scripts, styles; the event
  stream left out), decoded, the equity curve's chart library included (when a node runs);
  ``trading_page_weight_kb`` for the Trading tab;
- ``event_to_screen_p95_ms``: a market order of 1 share placed from the Trading tab's
  ticket until its fill's marker is drawn on the chart (the order's round trip to the
  sandbox, the node, the bus, the page's event stream and the chart), p95 over ``rounds``.
  It bounds "fill at the sandbox to marker drawn" from above.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

__all__ = ["CHROMIUM", "run_dashboard_benchmark"]

CHROMIUM = "/usr/bin/chromium"
_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_LINK = re.compile(r"one-time link, [^)]*\): (http://\S+/signin\?token=\S+)")
_WEIGHT_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const parts = performance.getEntriesByType('resource')
    .filter(r => !r.name.includes('/ui/events'))
    .map(r => r.decodedBodySize);
  return parts.reduce((a, b) => a + b, nav.decodedBodySize);
}"""
_ROUND_JS = """async (before) => {
  const chart = document.querySelector('[data-testid=price-chart]');
  const started = performance.now();
  const drawn = new Promise(resolve => {
    const watch = new MutationObserver(() => {
      if (Number(chart.dataset.markers) > before) { watch.disconnect(); resolve(); }
    });
    watch.observe(chart, {attributes: true});
  });
  document.querySelector('[data-testid=ticket-submit]').click();
  await drawn;
  return performance.now() - started;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _system(home: Path) -> Iterator[str]:
    """``stockyard up`` in ``home`` on free ports; its sign-in link."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    env.pop("HEALTH_API_PORT", None)
    env |= {
        "STOCKYARD_HOME": str(home),
        "HEALTH_API_PORT": str(_free_port()),
        "STOCKYARD_SANDBOX__PORT": str(_free_port()),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    err = home / "up.err"
    with err.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "stockyard", "up", "--single-process"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=home,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            found = _LINK.search(err.read_text(encoding="utf-8", errors="replace"))
            if found:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"stockyard up did not start:\n{err.read_text()[-2000:]}")
            time.sleep(0.05)
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _cold_loads(browser: Browser, base: str, state: object, loads: int) -> tuple[list[float], int]:
    paints: list[float] = []
    weight = 0
    for _ in range(loads):
        context = browser.new_context(storage_state=state)  # type: ignore[arg-type]
        try:
            page = context.new_page()
            page.goto(base + "/", wait_until="load")
            paint = page.wait_for_function(
                "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime"
            ).json_value()
            paints.append(float(paint))
            weight = int(page.evaluate(_WEIGHT_JS))
        finally:
            context.close()
    return paints, weight


def _trading_rounds(page: Page, rounds: int) -> list[float]:
    chart = "[data-testid=price-chart]"
    page.wait_for_function(f"() => document.querySelector('{chart}').dataset.markers")
    page.wait_for_function("() => window.htmx && document.querySelector('#chart-feed')")
    latencies: list[float] = []
    for n in range(rounds):
        page.select_option("[data-testid=ticket-side]", "buy" if n % 2 == 0 else "sell")
        page.fill("[data-testid=ticket-qty]", "1")
        before = int(page.get_attribute(chart, "data-markers") or "0")
        latencies.append(float(page.evaluate(_ROUND_JS, before)))
        page.wait_for_selector("[data-testid=ticket-message]")
    return latencies


def run_dashboard_benchmark(
    *, home: Path | None = None, loads: int = 5, rounds: int = 20
) -> dict[str, object]:
    """Run the benchmark (see the module's docstring); the figures as a dict."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("install Debian's chromium: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="stockyard-bench-dashboard-") as scratch:
        where = Path(home) if home is not None else Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        with _system(where) as link, sync_playwright() as playwright:
            base = link.split("/signin", 1)[0]
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
            try:
                first = browser.new_context()
                first.new_page().goto(link, wait_until="load")
                state = first.storage_state()
                first.close()
                paints, weight = _cold_loads(browser, base, state, loads)
                context = browser.new_context(storage_state=state)
                page = context.new_page()
                page.goto(base + "/trading", wait_until="load")
                trading_weight = int(page.evaluate(_WEIGHT_JS))
                latencies = _trading_rounds(page, rounds)
                context.close()
            finally:
                browser.close()
    return {
        "first_paint_ms": round(statistics.median(paints), 1),
        "first_paint_p95_ms": round(_p95(paints), 1),
        "page_weight_kb": round(weight / 1024, 1),
        "trading_page_weight_kb": round(trading_weight / 1024, 1),
        "event_to_screen_p50_ms": round(statistics.median(latencies), 1),
        "event_to_screen_p95_ms": round(_p95(latencies), 1),
        "loads": loads,
        "rounds": rounds,
        "browser": "Debian chromium, headless",
        "event_to_screen_from": "order ticket click (includes the order's round trip)",
    }
