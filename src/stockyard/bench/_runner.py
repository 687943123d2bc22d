"""How fast bars go through ``StrategyRunner`` into ``sma_cross`` (the backtester's share).

Two figures on the same synthetic random walk (one symbol, rows made before the clock
starts, as the backtester makes them from a bar table):

- ``bars_per_s``: runner fast path → ``SmaCross.on_bar`` with a gateway that accepts every
  order and never fills one (so after the first buy the bot only watches: the pure per-bar
  cost of the strategy path);
- ``bars_per_s_with_fills``: the same, with every order filled at the next bar's open and
  the fill routed back through ``runner.on_fill`` (order building, validation and fills
  included; no portfolio, no risk).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from stockyard.core import Fill, OrderRequest, SimClock
from stockyard.portfolio import Portfolio
from stockyard.strategy import BarRow, StrategyOrder, StrategyRunner, SubmitResult
from stockyard.strategy.bots import SmaCross

__all__ = ["run_runner_benchmark"]

_T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
_MINUTE_NS = 60_000_000_000


class _Gateway:
    """Accepts every order; queues it for the host to fill (or never)."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, OrderRequest]] = []
        self.orders = 0

    def submit(self, intent: StrategyOrder) -> SubmitResult:
        self.orders += 1
        client_order_id = f"{intent.strategy_id}-{intent.sequence}"
        self.queue.append((client_order_id, intent.request))
        return SubmitResult.ok(client_order_id)

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        return SubmitResult.ok(client_order_id)


def _rows(bars: int, seed: int) -> list[BarRow]:
    rng = random.Random(seed)
    price, closes = 100.0, []
    for _ in range(bars):
        price *= 1.0 + rng.gauss(0.0, 0.001)
        closes.append(price)
    stamps = range(0, bars * _MINUTE_NS, _MINUTE_NS)
    make = partial(tuple.__new__, BarRow)  # a row without the Python-level __new__
    return list(
        map(
            make,
            zip(["AAPL"] * bars, stamps, closes, closes, closes, closes, [1e3] * bars, strict=True),
        )
    )


def _runner(gateway: _Gateway) -> tuple[StrategyRunner, SmaCross]:
    runner = StrategyRunner(clock=SimClock(_T0), gateway=gateway, portfolio=Portfolio(0).view())
    bot = SmaCross(symbols=["AAPL"])
    runner.add(bot)
    runner.start()
    return runner, bot


def run_runner_benchmark(*, bars: int = 1_000_000, seed: int = 0) -> dict[str, float | int]:
    """Time ``bars`` bars through the runner into ``sma_cross``; see the module docstring."""
    rows = _rows(bars, seed)

    gateway = _Gateway()
    runner, _ = _runner(gateway)
    push = runner.bar_pusher("AAPL")
    started = time.perf_counter()
    for row in rows:
        push(row)
    plain_s = time.perf_counter() - started

    filling = _Gateway()
    runner, _ = _runner(filling)
    push = runner.bar_pusher("AAPL")
    queue, on_fill, fills = filling.queue, runner.on_fill, 0
    started = time.perf_counter()
    for row in rows:
        if queue:
            for client_order_id, request in queue:
                fills += 1
                assert request.qty is not None
                on_fill(
                    Fill(
                        id=str(fills),
                        order_id=client_order_id,
                        client_order_id=client_order_id,
                        symbol=row.symbol,
                        side=request.side,
                        qty=request.qty,
                        price=Decimal(repr(row.open)),
                        timestamp=_T0,
                    )
                )
            queue.clear()
        push(row)
    filled_s = time.perf_counter() - started
    return {
        "bars": bars,
        "bars_per_s": round(bars / plain_s),
        "ns_per_bar": round(plain_s / bars * 1e9, 1),
        "bars_per_s_with_fills": round(bars / filled_s),
        "orders_with_fills": filling.orders,
        "us_per_order_round_trip": round((filled_s - plain_s) / max(filling.orders, 1) * 1e6, 2),
    }
