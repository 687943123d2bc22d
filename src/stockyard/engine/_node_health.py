"""The node's health checks: each bot's last decision and errors, market-data freshness
against the market calendar, the broker the node trades on (probed with the node's keys),
whether trading is halted and why, open orders and orders in doubt, faults on the money
path, the node's circuit breakers, the machine-learned bots' models (age, gate, drift), the
pace of each API key's requests and, on the sandbox, whether its replay still has data.

Checks run in the health service's threads; they read the node's counters (plain values)
and probe the venue over HTTP of their own, so nothing of the node is touched from another
thread and a health check never counts against the node's circuit breaker.

``NodeHealth`` runs a node's checks on demand: what a node process serves the hub over its
socket, and what the hub of ``up --single-process`` merges the same way (a ``HealthSource``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from stockyard.engine._node import TradingNode
from stockyard.engine._node_clock import VenueClock
from stockyard.execution.alpaca import AlpacaBroker, VenueProbe
from stockyard.execution.oms import OrderPhase
from stockyard.health import (
    CheckFunction,
    CheckRunner,
    HealthCheck,
    HealthRegistry,
    HealthReport,
    HealthStatus,
    Observation,
    SourceReport,
)
from stockyard.obs import Redactor
from stockyard.resilience import CircuitBreaker, CircuitState, RateLimiter
from stockyard.store import RunMode
from stockyard.strategy import StrategyStatus
from stockyard.strategy.ml import model_health_check

__all__ = [
    "NodeHealth",
    "breakers",
    "broker",
    "faults",
    "feed",
    "node_breakers",
    "orders",
    "pace",
    "rate_limits",
    "register_node_checks",
    "replay",
    "strategies",
    "trading",
]

_REDACT = Redactor()  # secret-shaped text (keys, tokens) in a venue's answer


def register_node_checks(
    registry: HealthRegistry,
    node: TradingNode,
    *,
    loop: asyncio.AbstractEventLoop,
    component: str = "node",
    stale_after_s: float = 120.0,
    broker_timeout_s: float = 5.0,
) -> None:
    """Add ``COMPONENT:strategies``, ``:feed``, ``:broker``, ``:trading``, ``:orders``,
    ``:faults``, ``:breakers``, ``:rate_limits``, on the sandbox ``:replay`` and, when the node
    runs machine-learned bots, ``:models`` (``component``: ``node@sandbox`` under ``up``; a
    check already registered under a key is replaced: a restarted node takes over).
    ``:faults`` fails while the session has had a money-path fault or the journal holds
    records after a failed commit: the default alert rules raise a critical alert on it.
    ``:trading`` fails while the node is halted, saying why. ``:models`` fails when a bot's
    model has expired."""
    checks: list[tuple[str, CheckFunction]] = [
        ("strategies", partial(strategies, node, stale_after_s=stale_after_s)),
        ("feed", partial(feed, node, stale_after_s=stale_after_s)),
        ("broker", partial(broker, node, loop=loop, timeout_s=broker_timeout_s)),
        ("trading", partial(trading, node)),
        ("orders", partial(orders, node)),
        ("faults", partial(faults, node)),
        ("breakers", partial(breakers, node)),
        ("rate_limits", partial(rate_limits, node)),
    ]
    if node.config.mode is RunMode.SANDBOX and isinstance(node.broker, AlpacaBroker):
        checks.append(("replay", partial(replay, node, timeout_s=broker_timeout_s)))
    for measurement, function in checks:
        registry.add(HealthCheck(component, measurement, function, "component"), replace=True)
    ml = model_health_check(node.strategies)
    if ml.bots:
        registry.add(HealthCheck(component, "models", ml, "component"), replace=True)


def _venue_now(node: TradingNode) -> datetime | None:
    """The venue's time now, where the node follows the venue's clock (the sandbox's replay:
    the node's own clock stands still between events, so it cannot tell a closed market
    from a silent one); None where the node's clock is the venue's (wall time)."""
    if not isinstance(node.clock, VenueClock) or not isinstance(node.broker, AlpacaBroker):
        return None
    got = node.broker.probe("/v2/clock", timeout_s=2.0)
    body = got.body
    if not isinstance(body, Mapping) or not isinstance(body.get("timestamp"), str):
        return None  # the venue does not answer: judge by the last time it sent
    return datetime.fromisoformat(str(body["timestamp"]).replace("Z", "+00:00"))


def _open(node: TradingNode, symbols: Sequence[str] | None = None) -> bool:
    return node.market_open(symbols, at=_venue_now(node))


def _waiting(node: TradingNode, stale_after_s: float, symbols: tuple[str, ...]) -> str | None:
    """Why no data yet is no fault (just started, or the market is closed), else None."""
    started = node.started_at
    if started is not None and time.monotonic() - started <= stale_after_s:
        return f"starting: {time.monotonic() - started:.0f} s since start"
    if not _open(node, symbols):
        return "market closed"
    return None


def strategies(node: TradingNode, *, stale_after_s: float) -> list[Observation]:
    """Per bot, its status, last decision (the last bar of its symbols), errors and refusals:
    a disabled bot fails; one whose bars stopped while its market is open warns; one that
    has not decided yet passes while the node starts or its market is closed."""
    kernel = node.kernel
    if kernel is None:
        return [Observation.passed("the node has not started")]
    now = time.monotonic()
    failures: dict[str, int] = {}
    for failure in kernel.runner.failures:
        failures[failure.strategy_id] = failures.get(failure.strategy_id, 0) + 1
    paused = kernel.risk.paused
    out = []
    for strategy in kernel.runner.strategies:
        sid = strategy.strategy_id
        seen = [node.last_bar_at[s] for s in strategy.symbols if s in node.last_bar_at]
        age = None if not seen else round(now - max(seen), 1)
        status = kernel.runner.status(sid)
        text = (
            f"{status.value}{' (paused)' if sid in paused else ''}; last decision "
            f"{'never' if age is None else f'{age} s ago'}; {failures.get(sid, 0)} errors, "
            f"{strategy.context.refused} orders refused"
        )
        verdict = HealthStatus.PASS
        if status is StrategyStatus.DISABLED:
            verdict = HealthStatus.FAIL
        elif age is None:
            why = _waiting(node, stale_after_s, strategy.symbols)
            if why is None:
                verdict = HealthStatus.WARN
                text += "; no bar since start while its market is open"
            else:
                text += f" ({why})"
        elif age > stale_after_s:
            if _open(node, strategy.symbols):
                verdict = HealthStatus.WARN
                text += "; no bar since while its market is open"
            else:
                text += " (market closed)"
        out.append(Observation(verdict, age, "s", text, sid))
    return out


def feed(node: TradingNode, *, stale_after_s: float) -> Observation:
    """Seconds since the last market data: fails once the feed stopped, warns when stale
    while the market of a symbol of the node is open (a closed market is not stale; crypto
    never closes); no data yet passes while the node starts."""
    if node.failure is not None:
        return Observation.failed(node.failure)
    if node.last_market_at is None:
        why = _waiting(node, stale_after_s, node.symbols)
        if why is not None:
            return Observation.passed(f"no market data yet ({why})")
        return Observation.warned("no market data since start while the market is open")
    age = round(time.monotonic() - node.last_market_at, 1)
    text = f"last market data {age} s ago; {node.bars} bars, {node.ticks} ticks"
    if age > stale_after_s:
        if not _open(node):
            return Observation.passed(f"{text} (market closed)", value=age, unit="s")
        return Observation.warned(f"{text}: stale while the market is open", value=age, unit="s")
    return Observation.passed(text, value=age, unit="s")


def _venue(node: TradingNode) -> str:
    return {RunMode.SANDBOX: "sandbox", RunMode.PAPER: "alpaca-paper"}.get(
        node.config.mode, "alpaca-live"
    )


def broker(node: TradingNode, *, loop: asyncio.AbstractEventLoop, timeout_s: float) -> Observation:
    """The broker the node trades on, asked for the account with the node's keys: ms. Keys
    refused fail (authentication), no answer fails, naming the broker and where it is."""
    venue = node.broker
    if isinstance(venue, AlpacaBroker):
        return _probed(f"broker {_venue(node)}", venue.probe(timeout_s=timeout_s))
    if not node.running:  # a simulated venue: read the account on the node's loop
        return Observation.passed("the node is not running")
    started = time.perf_counter()
    future = asyncio.run_coroutine_threadsafe(venue.account(), loop)
    try:
        future.result(timeout_s)
    except Exception as exc:  # any failure to answer is the observation
        future.cancel()
        return Observation.failed(f"the broker did not answer: {exc!r}")
    ms = round((time.perf_counter() - started) * 1000, 2)
    return Observation.passed("account read", value=ms, unit="ms")


def _shown_url(url: str) -> str:
    """``url``'s scheme, host and port only: never a user, password, path or query (health
    output is served without a key)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def _probed(what: str, got: VenueProbe) -> Observation:
    where = f"{what} at {_shown_url(got.url)}"
    detail = _REDACT.text(got.detail)  # a venue's or proxy's words may echo a header
    if got.status is None:
        return Observation.failed(f"{where} unreachable: {detail}")
    if got.refused_keys:
        return Observation.failed(
            f"{where} refused the node's keys (HTTP {got.status}): authentication failed",
            value=got.latency_ms,
            unit="ms",
        )
    if got.status == 429:
        return Observation.warned(f"{where}: throttled (HTTP 429)", value=got.latency_ms, unit="ms")
    if got.status >= 300:
        return Observation.failed(
            f"{where} answered HTTP {got.status}: {detail[:120]}",
            value=got.latency_ms,
            unit="ms",
        )
    return Observation.passed(f"{where}: account read", value=got.latency_ms, unit="ms")


def trading(node: TradingNode) -> Observation:
    """Whether the node trades: fails while halted (kill switch, daily loss limit), after a
    failed reconciliation or once its feed stopped, saying why."""
    risk = node.risk
    reasons = []
    if risk.kill_reason is not None:
        reasons.append(f"halted by the kill switch: {risk.kill_reason}")
    if risk.daily_halt is not None:
        reasons.append(f"halted by the daily loss limit: {risk.daily_halt}")
    if node.reconcile_failure is not None:
        reasons.append(node.reconcile_failure)
    if node.failure is not None:
        reasons.append(node.failure)
    if reasons:
        return Observation.failed("; ".join(reasons), value="halted")
    if not node.running:
        return Observation.passed("not started", value="stopped")
    return Observation.passed(f"trading ({node.config.mode.value})", value="trading")


def orders(node: TradingNode) -> Observation:
    """Open orders; warns while some are in doubt."""
    manager = node.manager
    if manager is None:
        return Observation.passed("the node has not started")
    held = manager.open_orders()
    doubtful = [m for m in held if m.phase in (OrderPhase.UNKNOWN, OrderPhase.SUBMITTING)]
    text = f"{len(held)} open, {len(doubtful)} in doubt (reconciliation settles them)"
    if doubtful:
        return Observation.warned(text, value=len(held), unit="orders")
    return Observation.passed(text, value=len(held), unit="orders")


def faults(node: TradingNode) -> Observation:
    """Money-path faults of this session and journal records held."""
    found = list(node.faults)
    journal = node.journal
    held = 0 if journal is None else journal.held
    failure = None if journal is None else journal.last_failure
    parts = []
    if found:
        parts.append(f"{len(found)} money-path faults; last: {found[-1].message}")
    if failure is not None:
        parts.append(f"journal: {held} records held after a failed commit ({failure})")
    if not parts:
        return Observation.passed("no money-path faults", value=0, unit="faults")
    return Observation.failed("; ".join(parts), value=len(found), unit="faults")


def node_breakers(node: TradingNode) -> list[CircuitBreaker]:
    """The circuit breakers of the node's own parts (its broker's)."""
    found = getattr(node.broker, "breaker", None)
    return [found] if isinstance(found, CircuitBreaker) else []


_BREAKER_STATUS = {
    CircuitState.CLOSED: HealthStatus.PASS,
    CircuitState.HALF_OPEN: HealthStatus.WARN,
    CircuitState.OPEN: HealthStatus.WARN,
}


def breakers(node: TradingNode) -> list[Observation]:
    """One observation per breaker of the node: closed passes, half-open and open warn."""
    out = []
    for breaker in node_breakers(node):
        state = breaker.state
        text = f"{breaker.name} {state.value}"
        out.append(Observation(_BREAKER_STATUS[state], state.value, None, text, breaker.name))
    return out or [Observation.passed("no circuit breakers (a simulated venue)", value="none")]


def replay(node: TradingNode, *, timeout_s: float) -> Observation:
    """The sandbox's replay: warns once it has run out of data (no market data will come)."""
    assert isinstance(node.broker, AlpacaBroker)  # registered only for one
    got = node.broker.probe("/sandbox/status", timeout_s=timeout_s)
    body = got.body
    if got.status != 200 or not isinstance(body, Mapping):
        return Observation.passed(f"sandbox status unknown ({got.status or got.detail})")
    clock = body.get("clock")
    if body.get("replay_ended"):
        return Observation.warned(
            f"the sandbox replay has run out of data at {clock}: no more market data",
            value="ended",
        )
    return Observation.passed(f"replaying {body.get('source')} at {clock}", value="replaying")


def rate_limits(node: TradingNode) -> Observation:
    """The pace of the node's broker key, for brokers that pace themselves
    (``AlpacaBroker.rate_limiter``); the simulated and sandbox brokers are unpaced."""
    limiter = getattr(node.broker, "rate_limiter", None)
    if not isinstance(limiter, RateLimiter):
        return Observation.passed("unpaced (the local sandbox or a simulated venue)")
    return pace(limiter)


def pace(limiter: RateLimiter) -> Observation:
    """A key's pace: warn while throttled (a caller waited for a slot in the last minute,
    or the server answered 429), else pass; the requests in the window as the value."""
    snap = limiter.snapshot()
    used = snap["used_in_window"]
    assert isinstance(used, int)  # RateLimiter.snapshot counts requests
    text = f"{used} of {limiter.limit} requests in the last {limiter.window_s:.0f} s"
    if limiter.throttled():
        text += f"; throttled ({snap['waits']} waits, {snap['responses_429']} answers 429)"
        return Observation.warned(text, value=used, unit="requests")
    return Observation.passed(text, value=used, unit="requests")


class NodeHealth:
    """A node's checks under ``node@ACCOUNT``, run when asked (a ``HealthSource`` for the
    hub of this process; a node process serves :meth:`run` over its socket)."""

    def __init__(
        self,
        node: TradingNode,
        *,
        account: str,
        loop: asyncio.AbstractEventLoop,
        timeout: float = 5.0,
        stale_after_s: float = 120.0,
    ) -> None:
        self.node = node
        self.name = f"node@{account}"
        self.registry = HealthRegistry()
        register_node_checks(
            self.registry,
            node,
            loop=loop,
            component=self.name,
            stale_after_s=stale_after_s,
            broker_timeout_s=max(timeout * 0.8, 0.05),
        )
        self._runner = CheckRunner(self.registry, timeout=timeout)

    async def run(self) -> HealthReport:
        """Run every check of the node now."""
        return await self._runner.run_once()

    def breaker_states(self) -> dict[str, dict[str, object]]:
        """The node's breakers' snapshots by name."""
        return {b.name: b.snapshot() for b in node_breakers(self.node)}

    async def reset_breaker(self, name: str) -> dict[str, object] | None:
        """Close one of the node's breakers by hand; None when it has none of that name."""
        for breaker in node_breakers(self.node):
            if breaker.name == name:
                breaker.reset()
                return breaker.snapshot()
        return None

    async def collect(self) -> SourceReport:
        """The report of a node of this process (its errors and metrics are ours)."""
        report = await self.run()
        return SourceReport(checks=report.checks, breakers=self.breaker_states(), shared=True)
