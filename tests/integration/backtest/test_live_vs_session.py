"""Live vs backtest on a real stored session: a ``TradingNode`` trades ``sma_cross`` on the
sandbox (alpaca-py against our exchange, the journal and runs in SQLite), the sandbox
stepped a minute at a time; then the session is backtested and compared trade by trade,
and the figures are checked against the stored fills and the backtest's own orders."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
import typer
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from stockyard.backtest import (
    live_vs_backtest,
    live_vs_section,
    load_bars,
    load_session,
    session_strategies,
)
from stockyard.backtest.report import build_report
from stockyard.bus import InProcessBus
from stockyard.cli._backtest_cmd import register
from stockyard.core import OrderSide, Timeframe, to_ns
from stockyard.data.feeds import AlpacaFeed
from stockyard.engine import NodeConfig, TradingNode
from stockyard.engine._node_clock import VenueClock
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.sandbox import SandboxConfig, SandboxServer
from stockyard.store import SqlRunStore, dump_state, export_state, import_state, open_database
from stockyard.strategy import SmaCross

KEY, SECRET = "TESTKEY", "test-secret"
START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)  # Monday, 10:00 New York
MINUTES = 40
_QUIET = NodeConfig(snapshot_every_s=3600, status_every_s=3600, reconcile_every_s=3600)


async def _await(check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


def _heard(node: TradingNode, bars: int) -> bool:
    """The node heard ``bars`` bars and sent what it decided on them."""
    return node.bars >= bars and node.router is not None and not node.router.in_flight


@pytest.fixture(scope="module")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A sandbox session of ``sma_cross`` (fast 2, slow 5, 10 shares) over 40 minutes, stored
    in ``<home>/state.db``; yields (home, run id)."""
    home = tmp_path_factory.mktemp("live-vs-home")
    config = SandboxConfig(
        key_id=KEY, secret_key=SECRET, port=0, symbols=("AAPL",), start=START, speed=0.0,
        cash=Decimal(100_000),
    )  # fmt: skip
    server = SandboxServer(config).start()

    def step(seconds: float) -> None:
        target = server.sandbox.clock.now() + timedelta(seconds=seconds)
        server.submit(server.sandbox.step_to(target)).result(60)

    try:
        step(120)
        run_id = asyncio.run(_trade(server.base_url, home / "state.db", step))
    finally:
        server.stop()
    return home, run_id


async def _trade(base_url: str, path: Path, step: Callable[[float], None]) -> str:
    bus = InProcessBus(registry=CollectorRegistry())
    broker = AlpacaBroker(key_id=KEY, secret_key=SECRET, base_url=base_url)
    feed = AlpacaFeed(
        bus=bus, key_id=KEY, secret_key=SECRET, stream_url="ws" + base_url.removeprefix("http"),
        name="sandbox",
    )  # fmt: skip
    node = TradingNode(
        strategies=[SmaCross(symbols=["AAPL"], fast=2, slow=5, qty=10)],
        broker=broker, database=open_database(f"sqlite:///{path}"), bus=bus, feed=feed,
        clock=VenueClock(), venue_time=broker.venue_time, config=_QUIET,
    )  # fmt: skip
    await node.start()
    try:
        await _await(lambda: "AAPL" in feed.acknowledged, "the feed's subscription")
        manager, router = node.manager, node.router
        assert manager is not None
        assert router is not None
        for minute in range(1, MINUTES + 1):
            # First the next bar's opening ticks (an order sent on the last bar fills there,
            # and the node hears the fill), then its close (the node hears the bar and sends
            # what it decides): the node's steps are the backtest's, in lockstep.
            await asyncio.to_thread(step, 30)
            await _await(lambda: not manager.open_orders(), "the fill")
            await asyncio.to_thread(step, 30)
            await _await(partial(_heard, node, minute), "the bar")
    finally:
        await node.stop()
    assert node.run_id is not None
    return node.run_id


def test_the_run_records_its_strategies_with_their_parameters(
    session_home: tuple[Path, str],
) -> None:
    home, run_id = session_home
    with open_database(f"sqlite:///{home / 'state.db'}") as database:
        run = SqlRunStore(database).run(run_id)
        assert run is not None
        [spec] = run.specs
        assert (spec.reference, spec.strategy_id, spec.symbols) == (
            "sma_cross",
            "sma_cross",
            ("AAPL",),
        )
        assert dict(spec.params) == {"fast": 2, "slow": 5, "qty": 10}
        session = load_session(database, run_id)
    [bot] = session_strategies(session)
    assert isinstance(bot, SmaCross)
    assert (bot.fast, bot.slow, bot.qty) == (2, 5, 10)


def test_a_sandbox_session_and_its_backtest_match_trade_by_trade(
    session_home: tuple[Path, str],
) -> None:
    home, run_id = session_home
    with open_database(f"sqlite:///{home / 'state.db'}") as database:
        session = load_session(database, run_id)
        fills = SqlRunStore(database).fills(run_id)
    bars = load_bars(
        data=None, symbols=["AAPL"], timeframe=Timeframe.MINUTE,
        start=session.start - timedelta(minutes=1), end=session.end, store_root=home / "data",
        source="synthetic", seed=0,
    )  # fmt: skip
    result = live_vs_backtest(session, bars)

    # The session ran cold from its first snapshot: the backtest heard the same 40 bars.
    assert session.start == START + timedelta(minutes=2)
    assert int(result.results.meta["bars"]) == MINUTES  # type: ignore[arg-type]
    # What the store and the backtest say, computed directly.
    live_orders: dict[str, list[tuple[Decimal, Decimal, datetime, OrderSide]]] = {}
    for f in fills:
        live_orders.setdefault(f.client_order_id, []).append((f.qty, f.price, f.timestamp, f.side))
    tested = [o for o in result.results.orders if o.fill_price is not None]
    assert len(live_orders) >= 4, "the session should have traded a few round trips"
    assert len(tested) == len(live_orders)
    assert result.match.missed == ()
    assert result.match.extra == ()
    assert len(result.match.matched) == len(tested)
    live_in_order = sorted(live_orders.values(), key=lambda parts: min(p[2] for p in parts))
    for pair, parts, order in zip(result.match.matched, live_in_order, tested, strict=True):
        qty = sum(p[0] for p in parts)
        vwap = float(sum(p[0] * p[1] for p in parts) / qty)
        assert pair.live.qty == float(qty) == order.qty == 10.0
        assert pair.live.price == pytest.approx(vwap, rel=1e-12)
        assert pair.backtest.price == order.fill_price
        assert pair.side is order.side is parts[0][3]
        sign = 1 if order.side is OrderSide.BUY else -1
        assert order.fill_price is not None
        assert order.filled_at is not None
        expected_bps = sign * (vwap - order.fill_price) / order.fill_price * 1e4
        assert pair.slippage_bps == pytest.approx(expected_bps, rel=1e-9, abs=1e-9)
        # the backtest fills at the next bar's open; the sandbox at its quote then, or later
        assert 0 <= pair.delay_ns < 60 * 10**9
        assert pair.live.time == to_ns(min(p[2] for p in parts))
        assert pair.backtest.time == order.filled_at
    # P&L: each side's cash flows, fees and holdings at the period's last close.
    mark = float(bars.between(0, to_ns(session.end) - 60 * 10**9 + 1).symbols[0].close[-1])
    live_pnl = sum(
        float(-(1 if side is OrderSide.BUY else -1) * q * p) for parts in live_orders.values()
        for q, p, _, side in parts
    ) + float(sum(f.qty if f.side is OrderSide.BUY else -f.qty for f in fills)) * mark  # fmt: skip
    test_pnl = (
        sum(
            -(1 if o.side is OrderSide.BUY else -1) * o.qty * (o.fill_price or 0.0) - o.fee
            for o in tested
        )
        + sum(o.qty if o.side is OrderSide.BUY else -o.qty for o in tested) * mark
    )
    summary = result.summary()
    assert summary["live_pnl"] == pytest.approx(live_pnl, abs=1e-6)
    assert summary["backtest_pnl"] == pytest.approx(test_pnl, abs=1e-6)
    assert result.pnl_gap["AAPL"] == pytest.approx(live_pnl - test_pnl, abs=1e-6)
    # The report section draws the overlay and lists every matched trade.
    section = live_vs_section(result)
    assert len(section.figures[0].data) == 2
    assert section.html.count("<tr>") >= len(tested)
    assert "Live vs backtest" in build_report(title="t", extra_sections=[section])


def _app() -> typer.Typer:
    app, bench = typer.Typer(), typer.Typer()
    app.add_typer(bench, name="bench")
    register(app, bench)
    return app


def test_the_cli_prints_the_comparison_as_json_and_writes_a_report(
    session_home: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, run_id = session_home
    monkeypatch.setenv("STOCKYARD_HOME", str(home))
    out = tmp_path / "live.html"
    args = ["backtest", "live-vs", run_id, "--source", "synthetic", "--json", "--report", str(out)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["run"]["id"] == run_id
    assert doc["summary"]["missed"] == doc["summary"]["extra"] == 0
    assert doc["summary"]["matched"] == len(doc["matched"]) >= 4
    assert out.read_text().count("Live vs backtest") >= 1


def test_an_unknown_run_is_one_clear_line_and_exit_2(
    session_home: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, run_id = session_home
    monkeypatch.setenv("STOCKYARD_HOME", str(home))
    result = CliRunner().invoke(_app(), ["backtest", "live-vs", "run-nope"])
    assert result.exit_code == 2
    assert f"no run 'run-nope' in the state database (newest: {run_id})" in result.output


def test_specs_survive_an_export_and_an_older_export_without_them_still_imports(
    session_home: tuple[Path, str], tmp_path: Path
) -> None:
    home, run_id = session_home
    with open_database(f"sqlite:///{home / 'state.db'}") as database:
        document = json.loads(dump_state(export_state(database)))
    with open_database(f"sqlite:///{tmp_path / 'copy.db'}") as copy:
        import_state(copy, document)
        run = SqlRunStore(copy).run(run_id)
        assert run is not None
        assert dict(run.specs[0].params)["fast"] == 2
    for row in document["tables"]["runs"]:
        del row["specs"]  # as written before runs stored specs
    with open_database(f"sqlite:///{tmp_path / 'old.db'}") as old:
        import_state(old, document)
        run = SqlRunStore(old).run(run_id)
        assert run is not None
        assert run.specs == ()
