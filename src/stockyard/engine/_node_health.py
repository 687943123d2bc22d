"""The node's health checks: each bot's last decision and errors, market-data freshness,
the broker's answer time, open orders and orders in doubt, faults on the money path, the
machine-learned bots' models (age, gate, drift) and the pace of each API key's requests.

Checks run in the health service's threads; they read the node's counters (plain values)
and ask the broker on the node's own event loop, so nothing of the node is touched from
another thread.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from stockyard.engine._node import TradingNode
from stockyard.execution.oms import OrderPhase
from stockyard.health import HealthCheck, HealthRegistry, HealthStatus, Observation
from stockyard.resilience import RateLimiter
from stockyard.strategy import StrategyStatus
from stockyard.strategy.ml import model_health_check

__all__ = [
    "broker",
    "faults",
    "feed",
    "orders",
    "pace",
    "rate_limits",
    "register_node_checks",
    "strategies",
]


def register_node_checks(
    registry: HealthRegistry,
    node: TradingNode,
    *,
    loop: asyncio.AbstractEventLoop,
    stale_after_s: float = 120.0,
    broker_timeout_s: float = 5.0,
) -> None:
    """Add ``node:strategies``, ``node:feed``, ``node:broker``, ``node:orders``,
    ``node:faults``, ``node:rate_limits`` and, when the node runs machine-learned bots,
    ``node:models`` (a check already registered under a key is replaced: a restarted node
    takes over). ``node:faults`` fails while the session has had a money-path fault or the
    journal holds records after a failed commit: the default alert rules raise a critical
    alert on it. ``node:models`` fails when a bot's model has expired."""
    for measurement, function in (
        ("strategies", partial(strategies, node, stale_after_s=stale_after_s)),
        ("feed", partial(feed, node, stale_after_s=stale_after_s)),
        ("broker", partial(broker, node, loop=loop, timeout_s=broker_timeout_s)),
        ("orders", partial(orders, node)),
        ("faults", partial(faults, node)),
        ("rate_limits", partial(rate_limits, node)),
    ):
        registry.add(HealthCheck("node", measurement, function, "component"), replace=True)
    ml = model_health_check(node.strategies)
    if ml.bots:
        registry.add(HealthCheck("node", "models", ml, "component"), replace=True)


def strategies(node: TradingNode, *, stale_after_s: float) -> list[Observation]:
    """``node:strategies``: per bot, its status, last decision, errors and refusals."""
    kernel = node.kernel
    if kernel is None:
        return [Observation.warned("the node has not started")]
    now = time.monotonic()
    failures: dict[str, int] = {}
    for failure in kernel.runner.failures:
        failures[failure.strategy_id] = failures.get(failure.strategy_id, 0) + 1
    out = []
    for strategy in kernel.runner.strategies:
        sid = strategy.strategy_id
        seen = [node.last_bar_at[s] for s in strategy.symbols if s in node.last_bar_at]
        age = None if not seen else round(now - max(seen), 1)
        status = kernel.runner.status(sid)
        errors = failures.get(sid, 0)
        text = (
            f"{status.value}; last decision "
            f"{'never' if age is None else f'{age} s ago'}; {errors} errors, "
            f"{strategy.context.refused} orders refused"
        )
        if status is StrategyStatus.DISABLED:
            verdict = HealthStatus.FAIL
        elif age is None or age > stale_after_s:
            verdict = HealthStatus.WARN
        else:
            verdict = HealthStatus.PASS
        out.append(Observation(verdict, age, "s", text, sid))
    return out


def feed(node: TradingNode, *, stale_after_s: float) -> Observation:
    """``node:feed``: seconds since the last market data; fails once the feed stopped."""
    if node.failure is not None:
        return Observation.failed(node.failure)
    if node.last_market_at is None:
        return Observation.warned("no market data yet")
    age = round(time.monotonic() - node.last_market_at, 1)
    text = f"last market data {age} s ago; {node.bars} bars, {node.ticks} ticks"
    if age > stale_after_s:
        return Observation.warned(text, value=age, unit="s")
    return Observation.passed(text, value=age, unit="s")


def broker(node: TradingNode, *, loop: asyncio.AbstractEventLoop, timeout_s: float) -> Observation:
    """``node:broker``: ms to read the account, asked on the node's own loop."""
    if not node.running:
        return Observation.warned("the node is not running")
    started = time.perf_counter()
    future = asyncio.run_coroutine_threadsafe(node.broker.account(), loop)
    try:
        future.result(timeout_s)
    except Exception as exc:  # any failure to answer is the observation
        future.cancel()
        return Observation.failed(f"the broker did not answer: {exc!r}")
    ms = round((time.perf_counter() - started) * 1000, 2)
    return Observation.passed("account read", value=ms, unit="ms")


def orders(node: TradingNode) -> Observation:
    """``node:orders``: open orders; warns while some are in doubt."""
    manager = node.manager
    if manager is None:
        return Observation.warned("the node has not started")
    held = manager.open_orders()
    doubtful = [m for m in held if m.phase in (OrderPhase.UNKNOWN, OrderPhase.SUBMITTING)]
    text = f"{len(held)} open, {len(doubtful)} in doubt (reconciliation settles them)"
    if doubtful:
        return Observation.warned(text, value=len(held), unit="orders")
    return Observation.passed(text, value=len(held), unit="orders")


def faults(node: TradingNode) -> Observation:
    """``node:faults``: money-path faults of this session and journal records held."""
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


def rate_limits(node: TradingNode) -> Observation:
    """``node:rate_limits``: the pace of the node's broker key, for brokers that pace
    themselves (``AlpacaBroker.rate_limiter``); the simulated and sandbox brokers are
    unpaced."""
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
