"""``stockyard bench soak``: an accelerated sandbox session, run for minutes, and what it
leaves behind.

The sandbox (in this process, synthetic minute bars, nights skipped) replays its stocks at
the speed that makes its market data about ``rate`` messages a second (quotes, trades and
bars; the speed is re-aimed every few seconds, as sessions differ). A trading node runs
every demo bot against it through alpaca-py, as ``stockyard up`` does. Reported:

* ``orders``, ``fills``: what the node sent and was filled;
* ``published``, ``received``, ``lost``: market-data messages the sandbox released for the
  node's symbols against those that reached the node's bus, counted per stream (message
  type and symbol; ``lost_by_stream`` names any short one), after the replay is paused and
  the last messages have arrived;
* ``max_backlog_frames``, ``drain_s``: the most frames the sandbox had queued for the node
  (a node falling behind) and how long the last messages took to arrive after the pause;
* ``memory_growth_pct``: this process's RSS (sandbox and node together), mean of the last
  10 % of the samples against the first 10 %;
* ``positions_equal``: the node's books against the sandbox's ``/v2/positions`` at the end.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
from pydantic import SecretStr

from stockyard.bus import InProcessBus
from stockyard.config import Settings
from stockyard.core import Bar, Quote, Trade
from stockyard.data import SyntheticSource
from stockyard.engine import NodeThread, build_node, node_config, oms_config
from stockyard.execution import ExchangeConfig
from stockyard.sandbox import SandboxConfig, SandboxServer
from stockyard.strategy import Strategy

__all__ = ["SOAK_SYMBOLS", "run_soak_benchmark"]

SOAK_SYMBOLS = ("AAPL", "MSFT", "NVDA")
_KEY, _SECRET = "SOAKKEY", "soak-secret-7c1e"
_START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # Monday 4 March 2024, the open
_KINDS: dict[type, str] = {Quote: "q", Trade: "t", Bar: "b"}
_PER_SYMBOL_MINUTE = 9.0  # about 4 quotes, 4 trades and the bar: the first aim only
_AIM_EVERY_S = 3.0
_SAMPLE_EVERY_S = 0.5


class _Received:
    """Market data that reached the node's bus, per (type, symbol)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, topic: str, message: object) -> None:
        kind = _KINDS.get(type(message))
        if kind is not None:
            self.counts[kind, message.symbol] += 1  # type: ignore[attr-defined]  # md types

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _sandbox(home: Path, *, speed: float) -> SandboxServer:
    config = SandboxConfig(
        key_id=_KEY,
        secret_key=_SECRET,
        host="127.0.0.1",
        port=0,
        symbols=SOAK_SYMBOLS,
        source=SyntheticSource(seed=0),
        start=_START,
        speed=speed,
        exchange=ExchangeConfig(fill_on_submit=True),
        state_path=home / "sandbox.db",
    )
    return SandboxServer(config, log_level="warning").start()


def _go(server: SandboxServer, speed: float, within_s: float = 60.0) -> None:
    """Once the node's feed has subscribed: count from zero and start the replay."""
    hub = server.sandbox.md_hub
    deadline = time.monotonic() + within_s
    while not (hub.connections and hub.all_subscribed()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the node's feed did not subscribe within {within_s:g} s")
        time.sleep(0.05)

    async def start() -> None:
        hub.offered = Counter()
        server.sandbox.set_speed(speed)

    server.submit(start()).result(30)


def _node(home: Path, server: SandboxServer, bots: Sequence[Strategy]) -> NodeThread:
    settings = Settings(home=home)
    alpaca = settings.alpaca.model_copy(
        update={"key_id": SecretStr(_KEY), "secret_key": SecretStr(_SECRET)}
    )
    node = build_node(
        settings.model_copy(update={"alpaca": alpaca}),
        strategies=bots,
        broker="sandbox",
        bus=InProcessBus(name="node"),
        sandbox_url=server.base_url,
        config=node_config(settings, status_every_s=3600.0),
        oms=oms_config(settings),
    )
    return NodeThread(node).start()


def _set_speed(server: SandboxServer, speed: float) -> None:
    async def change() -> None:
        server.sandbox.set_speed(speed)

    server.submit(change()).result(30)


def _offered(server: SandboxServer, symbols: frozenset[str]) -> Counter[tuple[str, str]]:
    offered = server.sandbox.md_hub.offered or Counter()
    return Counter({k: n for k, n in list(offered.items()) if k[0] in "qtb" and k[1] in symbols})


def _run_session(
    server: SandboxServer,
    symbols: frozenset[str],
    *,
    seconds: float,
    rate: float,
    speed: float,
    backlog: list[int],
) -> tuple[list[int], float]:
    """Hold the rate for ``seconds``, sampling the RSS and the sandbox's send backlog (the
    most frames queued for the node's connection); the samples and the last speed."""
    me = psutil.Process()
    rss: list[int] = []
    began = time.monotonic()
    aimed_at, aimed_count = began, 0
    while (now := time.monotonic()) - began < seconds:
        rss.append(me.memory_info().rss)
        backlog.append(server.sandbox.md_hub.backlog())
        if now - aimed_at >= _AIM_EVERY_S:
            count = sum(_offered(server, symbols).values())
            seen = (count - aimed_count) / (now - aimed_at)
            if seen > 0:  # aim again, by at most a factor of 2 each time
                speed *= min(2.0, max(0.5, rate / seen))
                _set_speed(server, speed)
            aimed_at, aimed_count = now, count
        time.sleep(min(_SAMPLE_EVERY_S, max(0.0, seconds - (now - began))))
    return rss, speed


def _drain(
    server: SandboxServer, symbols: frozenset[str], received: _Received, within_s: float
) -> None:
    """Pause the replay; wait until what was released has arrived (or stops arriving)."""
    _set_speed(server, 0.0)
    deadline = time.monotonic() + within_s
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = received.total
        if total >= sum(_offered(server, symbols).values()):
            return
        if total != last:
            last, still_since = total, time.monotonic()
        elif time.monotonic() - still_since > 3.0:
            return
        time.sleep(0.05)


def _positions_equal(
    server: SandboxServer, thread: NodeThread, within_s: float
) -> tuple[bool, dict[str, str], dict[str, str]]:
    """The node's positions against the sandbox's, once the node's orders have settled."""
    node = thread.node
    headers = {"APCA-API-KEY-ID": _KEY, "APCA-API-SECRET-KEY": _SECRET}
    deadline = time.monotonic() + within_s
    while True:
        ours = _node_positions(thread)
        rows = httpx.get(f"{server.base_url}/v2/positions", headers=headers, timeout=30).json()
        theirs = {r["symbol"]: str(Decimal(r["qty"])) for r in rows if Decimal(r["qty"])}
        settled = node.stats().get("open_orders") == 0
        if (ours == theirs and settled) or time.monotonic() > deadline:
            return ours == theirs, ours, theirs
        time.sleep(0.1)


def _node_positions(thread: NodeThread) -> dict[str, str]:
    async def read() -> dict[str, str]:
        kernel = thread.node.kernel
        assert kernel is not None  # the node has started
        return {s: str(p.qty) for s, p in kernel.portfolio.positions().items() if p.qty}

    assert thread.loop is not None  # the node has started
    return asyncio.run_coroutine_threadsafe(read(), thread.loop).result(30)


def _growth_pct(rss: list[int]) -> float:
    tenth = max(1, len(rss) // 10)
    first, last = statistics.fmean(rss[:tenth]), statistics.fmean(rss[-tenth:])
    return round((last - first) / first * 100, 2)


def _losses(offered: Counter[tuple[str, str]], received: _Received) -> dict[str, int]:
    short = {k: n - received.counts.get(k, 0) for k, n in offered.items()}
    return {f"{kind} {symbol}": n for (kind, symbol), n in sorted(short.items()) if n > 0}


def run_soak_benchmark(
    *,
    seconds: float,
    bots: Callable[[tuple[str, ...]], list[Strategy]],
    rate: float = 1000.0,
    workdir: Path | None = None,
) -> dict[str, object]:
    """Run the soak for ``seconds`` with ``bots(symbols)`` (the demo bots ``up`` runs)."""
    home = workdir or Path(tempfile.mkdtemp(prefix="stockyard-soak-"))
    strategies = bots(SOAK_SYMBOLS)
    symbols = frozenset(s for b in strategies for s in b.symbols)
    speed = rate * 60.0 / (len(symbols) * _PER_SYMBOL_MINUTE)
    server = _sandbox(home, speed=0.0)  # paused until the node listens
    try:
        thread = _node(home, server, strategies)
        received = _Received()
        backlog: list[int] = []
        thread.node.bus.subscribe("md.>", received)
        try:
            _go(server, speed)
            began = time.monotonic()
            rss, speed = _run_session(
                server, symbols, seconds=seconds, rate=rate, speed=speed, backlog=backlog
            )
            paused = time.monotonic()
            _drain(server, symbols, received, within_s=30.0)
            drain_s = time.monotonic() - paused
            elapsed = paused - began
            equal, ours, theirs = _positions_equal(server, thread, within_s=30.0)
            stats = thread.node.stats()
            reconnects = getattr(thread.node.feed, "reconnects", 0)
        finally:
            thread.stop()
        offered = _offered(server, symbols)
    finally:
        server.stop()
    lost = _losses(offered, received)
    return {
        "seconds": round(elapsed, 1),
        "bots": [b.strategy_id for b in strategies],
        "symbols": sorted(symbols),
        "target_messages_per_s": rate,
        "messages_per_s": round(sum(offered.values()) / elapsed, 1),
        "final_speed": round(speed, 1),
        "orders": stats.get("orders"),
        "fills": stats.get("fills"),
        "published": sum(offered.values()),
        "received": received.total,
        "lost": sum(lost.values()),
        "lost_by_stream": lost,
        "feed_reconnects": reconnects,
        "max_backlog_frames": max(backlog, default=0),
        "drain_s": round(drain_s, 2),
        "rss_first_mb": round(statistics.fmean(rss[: max(1, len(rss) // 10)]) / 2**20, 1),
        "rss_last_mb": round(statistics.fmean(rss[-max(1, len(rss) // 10) :]) / 2**20, 1),
        "memory_growth_pct": _growth_pct(rss),
        "positions_equal": equal,
        "positions": {"node": ours, "sandbox": theirs},
    }
