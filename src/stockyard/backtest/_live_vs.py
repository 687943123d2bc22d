"""Live vs backtest, trade by trade: executions, their matching, slippage and the P&L gap.

An **execution** is one order's fills taken together (partial fills are one execution: the
quantity summed, the price volume-weighted, the time of its first fill). Live executions
come from a stored session's fills, backtest ones from the backtest's filled orders.

Matching is per symbol and side, in time order, and never crosses: each live execution
takes the earliest backtest execution of the same symbol and side that is not yet taken,
comes after the last one matched, and lies within ``tolerance`` of it (either way). This
two-pointer walk matches as many pairs as any non-crossing matching can; of two candidates
the earlier wins, so ties are settled by time. A backtest execution left over is
**missed** (the backtest traded, live did not); a live one is **extra**.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from stockyard.backtest._results import JsonScalar, OrderRecord, iso_from_ns
from stockyard.core import Fill, OrderSide, to_ns

__all__ = [
    "Execution",
    "MatchedTrade",
    "TradeMatch",
    "executions_from_fills",
    "executions_from_orders",
    "match_executions",
    "symbol_pnl",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    """One order's fills together: ``qty`` summed, ``price`` volume-weighted, ``time`` of the
    first fill (UTC ns), ``fee`` summed, ``fills`` counted; ``order_id`` is the client order
    id where known."""

    symbol: str
    side: OrderSide
    qty: float
    price: float
    time: int
    fee: float = 0.0
    fills: int = 1
    order_id: str | None = None

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ValueError("execution symbol must not be blank")
        for name in ("qty", "price", "fee"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"execution {name} must be finite")
        if self.qty <= 0 or self.price <= 0:
            raise ValueError("execution qty and price must be > 0")

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self.side is OrderSide.BUY else -1

    def to_dict(self) -> dict[str, JsonScalar]:
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "price": self.price,
            "time": iso_from_ns(self.time),
            "fee": self.fee,
            "fills": self.fills,
            "order_id": self.order_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchedTrade:
    """A live execution and the backtest execution it matched.

    ``price_diff`` = live − backtest price; ``slippage`` is the same signed against the
    trader (a buy paying more or a sell getting less is positive) and ``slippage_bps`` that
    as basis points of the backtest price; ``slippage_cost`` = slippage × the smaller qty.
    ``delay_ns`` = live time − backtest time.
    """

    live: Execution
    backtest: Execution

    @property
    def symbol(self) -> str:
        return self.live.symbol

    @property
    def side(self) -> OrderSide:
        return self.live.side

    @property
    def delay_ns(self) -> int:
        return self.live.time - self.backtest.time

    @property
    def price_diff(self) -> float:
        return self.live.price - self.backtest.price

    @property
    def slippage(self) -> float:
        return self.price_diff * self.live.sign

    @property
    def slippage_bps(self) -> float:
        return self.slippage / self.backtest.price * 10_000.0

    @property
    def slippage_cost(self) -> float:
        return self.slippage * min(self.live.qty, self.backtest.qty)

    def to_dict(self) -> dict[str, JsonScalar]:
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "live_time": iso_from_ns(self.live.time),
            "backtest_time": iso_from_ns(self.backtest.time),
            "delay_s": self.delay_ns / 1e9,
            "live_qty": self.live.qty,
            "backtest_qty": self.backtest.qty,
            "live_price": self.live.price,
            "backtest_price": self.backtest.price,
            "price_diff": self.price_diff,
            "slippage_bps": self.slippage_bps,
            "slippage_cost": self.slippage_cost,
            "live_order_id": self.live.order_id,
            "backtest_order_id": self.backtest.order_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeMatch:
    """The outcome of matching: pairs, missed (backtest only) and extra (live only), each in
    time order."""

    matched: tuple[MatchedTrade, ...]
    missed: tuple[Execution, ...]
    extra: tuple[Execution, ...]


def executions_from_fills(fills: Iterable[Fill]) -> list[Execution]:
    """Live fills grouped by client order id into executions, in time order."""
    groups: dict[str, list[Fill]] = {}
    for fill in fills:
        groups.setdefault(fill.client_order_id, []).append(fill)
    out: list[Execution] = []
    for order_id, parts in groups.items():
        first = parts[0]
        qty = sum((f.qty for f in parts), Decimal(0))
        notional = sum((f.qty * f.price for f in parts), Decimal(0))
        out.append(
            Execution(
                symbol=first.symbol,
                side=first.side,
                qty=float(qty),
                price=float(notional / qty),
                time=min(to_ns(f.timestamp) for f in parts),
                fee=float(sum((f.fee for f in parts), Decimal(0))),
                fills=len(parts),
                order_id=order_id,
            )
        )
    return sorted(out, key=_order_key)


def executions_from_orders(orders: Iterable[OrderRecord]) -> list[Execution]:
    """A backtest's filled orders as executions, in time order."""
    out = [
        Execution(
            symbol=o.symbol,
            side=o.side,
            qty=o.qty,
            price=o.fill_price,
            time=o.filled_at,
            fee=o.fee,
            order_id=o.client_order_id,
        )
        for o in orders
        if o.filled_at is not None and o.fill_price is not None
    ]
    return sorted(out, key=_order_key)


def _order_key(execution: Execution) -> tuple[int, str]:
    return execution.time, execution.order_id or ""


def match_executions(
    live: Sequence[Execution], backtest: Sequence[Execution], *, tolerance_ns: int
) -> TradeMatch:
    """Match ``live`` against ``backtest`` executions; see the module docstring."""
    if tolerance_ns < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance_ns} ns")
    books: dict[tuple[str, OrderSide], tuple[list[Execution], list[Execution]]] = defaultdict(
        lambda: ([], [])
    )
    for execution in sorted(live, key=_order_key):
        books[execution.symbol, execution.side][0].append(execution)
    for execution in sorted(backtest, key=_order_key):
        books[execution.symbol, execution.side][1].append(execution)
    matched: list[MatchedTrade] = []
    missed: list[Execution] = []
    extra: list[Execution] = []
    for key in sorted(books, key=lambda k: (k[0], k[1].value)):
        lives, tests = books[key]
        i = j = 0
        while i < len(lives) and j < len(tests):
            gap = tests[j].time - lives[i].time
            if gap < -tolerance_ns:  # the backtest's is too early for this live one and later ones
                missed.append(tests[j])
                j += 1
            elif gap > tolerance_ns:  # too late: nothing left can match this live one
                extra.append(lives[i])
                i += 1
            else:
                matched.append(MatchedTrade(live=lives[i], backtest=tests[j]))
                i += 1
                j += 1
        extra.extend(lives[i:])
        missed.extend(tests[j:])
    return TradeMatch(
        matched=tuple(sorted(matched, key=lambda m: _order_key(m.live))),
        missed=tuple(sorted(missed, key=_order_key)),
        extra=tuple(sorted(extra, key=_order_key)),
    )


def symbol_pnl(executions: Iterable[Execution], marks: Mapping[str, float]) -> dict[str, float]:
    """P&L per symbol of ``executions`` alone: cash in and out, fees, and what is still held
    marked at ``marks`` (every traded symbol needs one)."""
    cash: dict[str, float] = defaultdict(float)
    held: dict[str, float] = defaultdict(float)
    for e in executions:
        cash[e.symbol] -= e.sign * e.qty * e.price + e.fee
        held[e.symbol] += e.sign * e.qty
    missing = sorted(s for s, q in held.items() if q != 0 and s not in marks)
    if missing:
        raise ValueError(f"no price to mark {', '.join(missing)} at the end of the period")
    return {s: cash[s] + (held[s] * marks[s] if held[s] != 0 else 0.0) for s in sorted(cash)}
