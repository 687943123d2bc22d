"""``[[bots]]`` on a real sandbox: one node runs several strategies and trades for each; a
bot started after history exists is warmed up (indicators full, nothing sent) and decides
on the first live bar; a disabled table does not run while the same table enabled does."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.integration.engine.conftest import sandbox_orders, wait_for
from tests.integration.sandbox.conftest import KEY, SECRET, make_config

from stockyard.bus import InProcessBus
from stockyard.config import Settings, load_settings
from stockyard.engine import NodeConfig, NodeThread, bots_from_settings, build_node
from stockyard.sandbox import SandboxServer
from stockyard.strategy import BarRow, Strategy, param
from stockyard.strategy.bots import SmaCross


class Recorder(Strategy):
    """Tries to buy on every bar; remembers how much history it saw on each live bar."""

    name = "recorder"
    need: int = param(5, ge=1, doc="bars of warm-up it asks for")

    @property
    def warmup_bars(self) -> int:
        return self.need

    def on_start(self) -> None:
        self.seen: list[tuple[int, int, bool]] = []  # (ts, history length, accepted)

    def on_bar(self, bar: BarRow) -> None:
        result = self.buy(bar.symbol, 1)
        self.seen.append((bar.ts, len(self.history(bar.symbol)), result.accepted))


_RECORDER = f"{__name__}:Recorder"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(make_config(symbols=("AAPL", "MSFT", "SPY"))).start()
    try:
        yield server
    finally:
        server.stop()


def _settings(tmp_path: Path, bots: str, **node: object) -> Settings:
    path = tmp_path / "stockyard.toml"
    shown = "".join(f"{k} = {str(v).lower()}\n" for k, v in node.items())
    path.write_text(f"[node]\n{shown}\n{bots}")
    env = {"STOCKYARD_HOME": str(tmp_path), "APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET}
    return load_settings(config_file=path, env=env)


def _start(settings: Settings, server: SandboxServer, bots: list[Strategy]) -> NodeThread:
    node = build_node(
        settings,
        strategies=bots,
        broker="sandbox",
        bus=InProcessBus(name="node"),
        sandbox_url=server.base_url,
        config=NodeConfig(tick_s=0.05, status_every_s=3600, warmup=settings.node.warmup),
    )
    return NodeThread(node).start()


def _minute(server: SandboxServer) -> None:
    sandbox = server.sandbox
    server.submit(sandbox.step_to(sandbox.clock.now() + timedelta(minutes=1))).result(60)


def _orders_by_bot(server: SandboxServer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for coid in sandbox_orders(server):
        bot = coid.rsplit("-", 1)[0]
        counts[bot] = counts.get(bot, 0) + 1
    return counts


_TWO_BOTS = """
[[bots]]
name = "trend"
strategy = "sma_cross"
symbols = ["AAPL", "MSFT"]
params = { fast = 2, slow = 3, qty = 5 }

[[bots]]
name = "revert"
strategy = "mean_reversion"
symbols = ["SPY"]
params = { window = 5, entry_z = 0.5, exit_z = 0.1, qty = 7 }
"""


def test_one_node_runs_two_bots_of_different_strategies_and_both_trade(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = _settings(tmp_path, _TWO_BOTS)
    bots = bots_from_settings(settings)
    assert [(b.strategy_id, b.name) for b in bots] == [
        ("trend", "sma_cross"),
        ("revert", "mean_reversion"),
    ]
    thread = _start(settings, sandbox, bots)
    try:
        for _ in range(240):
            if {"trend", "revert"} <= set(_orders_by_bot(sandbox)):
                break
            _minute(sandbox)
        wait_for(
            lambda: {"trend", "revert"} <= set(_orders_by_bot(sandbox)),
            within=30,
            what=f"orders of both bots (have {_orders_by_bot(sandbox)})",
        )
    finally:
        thread.stop()
    symbols = {
        str(o["symbol"]): str(o["client_order_id"]) for o in sandbox_orders(sandbox).values()
    }
    assert any(coid.startswith("revert-") for s, coid in symbols.items() if s == "SPY")
    assert not any(coid.startswith("revert-") for s, coid in symbols.items() if s != "SPY")


def test_a_bot_started_after_history_exists_is_warm_and_decides_on_the_first_live_bar(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    bots_toml = f"""
[[bots]]
name = "rec"
strategy = "{_RECORDER}"
symbols = ["AAPL"]
params = {{ need = 6 }}

[[bots]]
name = "trend"
strategy = "sma_cross"
symbols = ["MSFT"]
params = {{ fast = 3, slow = 8 }}
"""
    settings = _settings(tmp_path, bots_toml)
    rec, trend = bots_from_settings(settings)
    assert isinstance(rec, Recorder)
    assert isinstance(trend, SmaCross)
    assert trend.warmup_bars == 9  # slow + 1
    thread = _start(settings, sandbox, [rec, trend])
    try:
        node = thread.node
        assert node.warmup_bars == {"AAPL": 6, "MSFT": 9}
        # The warm-up tried to buy on each of its bars: refused, nothing reached the sandbox.
        assert rec.context.warmup_signals == 6
        assert len(rec.history("AAPL")) == 6
        assert sandbox_orders(sandbox) == {}
        # sma_cross's means are both defined before any live bar: it can cross on the first.
        assert not math.isnan(trend._lines["MSFT"].diff)
        _minute(sandbox)
        wait_for(lambda: rec.seen[6:], within=30, what="the first live bar")
        wait_for(lambda: sandbox_orders(sandbox), within=30, what="the first live order")
    finally:
        thread.stop()
    ts, history, accepted = rec.seen[6]
    assert history == 7  # six warm-up bars and the live one
    assert accepted
    assert ts > max(t for t, _, _ in rec.seen[:6])
    assert not any(ok for _, _, ok in rec.seen[:6])
    assert sorted(sandbox_orders(sandbox)) == ["rec-0"]  # the first: warm-up took no numbers


def test_a_cold_node_starts_with_empty_indicators(tmp_path: Path, sandbox: SandboxServer) -> None:
    """What the warm-up changes: with ``node.warmup = false`` the same bot starts empty."""
    settings = _settings(
        tmp_path, '[[bots]]\nname = "trend"\nstrategy = "sma_cross"\nsymbols = ["MSFT"]\n',
        warmup=False,
    )  # fmt: skip
    (trend,) = bots_from_settings(settings)
    thread = _start(settings, sandbox, [trend])
    try:
        assert thread.node.warmup_bars == {}
        assert isinstance(trend, SmaCross)
        assert math.isnan(trend._lines["MSFT"].diff)
    finally:
        thread.stop()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_disabled_bot_does_not_run_and_the_same_bot_enabled_does(
    tmp_path: Path, sandbox: SandboxServer, enabled: bool
) -> None:
    flag = f'name = "revert"\nenabled = {str(enabled).lower()}'
    settings = _settings(tmp_path, _TWO_BOTS.replace('name = "revert"', flag))
    bots = bots_from_settings(settings)
    assert [b.strategy_id for b in bots] == (["trend", "revert"] if enabled else ["trend"])
    thread = _start(settings, sandbox, bots)
    try:
        node, per_minute = thread.node, len(thread.node.symbols)
        for minute in range(1, _MINUTES + 1):  # the same session either way, bar by bar
            _minute(sandbox)
            wait_for(lambda m=minute: node.bars >= per_minute * m, within=30, what="bars")
        wait_for(lambda: "trend" in _orders_by_bot(sandbox), within=30, what="trend's orders")
        if enabled:
            wait_for(lambda: "revert" in _orders_by_bot(sandbox), within=30, what="revert's")
    finally:
        thread.stop()
    assert ("revert" in _orders_by_bot(sandbox)) is enabled
    assert ("revert" in {s.strategy_id for s in thread.node.strategies}) is enabled


_MINUTES = 30
