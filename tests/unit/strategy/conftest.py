"""A tiny in-memory host for strategies: a simulated clock and a gateway that fills market
orders at the next bar's open (the backtester's default), optionally behind a RiskEngine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockyard.core import Fill, OrderRequest, SimClock, to_ns
from stockyard.portfolio import Portfolio
from stockyard.resilience import ErrorRegistry
from stockyard.risk import LastPrice, RiskEngine
from stockyard.strategy import BarRow, Strategy, StrategyOrder, StrategyRunner, SubmitResult

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def row(
    symbol: str, i: int, close: float, *, high: float | None = None, low: float | None = None
) -> BarRow:
    """Bar ``i`` (one a minute from T0) with open = close, unless high/low say otherwise."""
    high = close if high is None else high
    low = close if low is None else low
    return BarRow(symbol, to_ns(T0 + i * MINUTE), close, high, low, close, 1000.0)


class Harness:
    """Runs strategies bar by bar; ``trades`` are (bar index, side, symbol, qty, price)."""

    row = staticmethod(row)
    start = T0

    def __init__(
        self,
        *strategies: Strategy,
        cash: int = 1_000_000,
        risk: RiskEngine | None = None,
        errors: ErrorRegistry | None = None,
    ) -> None:
        self.clock = SimClock(T0)
        self.books = Portfolio(cash)
        self.risk = risk
        self.sent: list[StrategyOrder] = []
        self.pending: dict[str, OrderRequest] = {}
        self.trades: list[tuple[int, str, str, Decimal, Decimal]] = []
        self.prices: dict[str, LastPrice] = {}
        self.runner = StrategyRunner(
            clock=self.clock, gateway=self, portfolio=self.books.view(), errors=errors
        )
        for strategy in strategies:
            self.runner.add(strategy)
        self.runner.start()
        self._fills = 0

    # OrderGateway
    def submit(self, intent: StrategyOrder) -> SubmitResult:
        if self.risk is not None:
            rejection = self.risk.check(
                intent.request,
                portfolio=self.books.view(),
                prices=self.prices,
                strategy_id=intent.strategy_id,
            )
            if rejection is not None:
                return SubmitResult.refused(rejection.code.value, rejection.reason)
        client_order_id = f"{intent.strategy_id}-{intent.sequence}"
        self.sent.append(intent)
        self.pending[client_order_id] = intent.request
        return SubmitResult.ok(client_order_id)

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        self.pending.pop(client_order_id, None)
        return SubmitResult.ok(client_order_id)

    def run(self, rows: Iterable[tuple[int, BarRow]]) -> None:
        """Deliver (bar index, row) in order; pending orders of a symbol fill at its open."""
        for index, bar in rows:
            self.clock.set(bar.timestamp)
            for coid, request in list(self.pending.items()):
                if request.symbol == bar.symbol:
                    self._fill(index, coid, request, bar)
            self.prices[bar.symbol] = LastPrice(Decimal(str(bar.close)), bar.timestamp)
            self.runner.on_bar(bar)

    def closes(self, symbol: str, closes: Sequence[float]) -> None:
        self.run((i, row(symbol, i, c)) for i, c in enumerate(closes))

    def _fill(self, index: int, coid: str, request: OrderRequest, bar: BarRow) -> None:
        del self.pending[coid]
        assert request.qty is not None
        self._fills += 1
        price = Decimal(str(bar.open))
        fill = Fill(
            id=f"f{self._fills}",
            order_id=f"o-{coid}",
            client_order_id=coid,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            price=price,
            timestamp=bar.timestamp,
        )
        self.books.apply(fill)
        self.trades.append((index, request.side.value, request.symbol, request.qty, price))
        self.runner.on_fill(fill)


@pytest.fixture
def harness() -> Callable[..., Harness]:
    return Harness
