"""Test helpers: an exchange on a hand-moved clock, with a stock, a crypto pair and one funded
account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stockyard.core import Bar, OrderRequest, OrderSide, OrderType
from stockyard.data import MarketCalendar
from stockyard.execution import Asset, ExchangeConfig, SimExchange, TradeUpdate, sequential_ids

# Tuesday 2 July 2024, 10:00 New York: the regular session is open.
OPEN_NOW = datetime(2024, 7, 2, 14, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass
class Clock:
    now: datetime = OPEN_NOW

    def __call__(self) -> datetime:
        return self.now

    def tick(self, delta: timedelta = MINUTE) -> datetime:
        self.now += delta
        return self.now


@dataclass
class Desk:
    """The exchange under test plus the clock it reads and the events it sent."""

    exchange: SimExchange
    clock: Clock
    events: list[TradeUpdate] = field(default_factory=list)

    def bar(
        self,
        o: float,
        h: float,
        lo: float,
        c: float,
        *,
        volume: float = 1_000_000,
        symbol: str = "AAPL",
        advance: bool = True,
    ) -> None:
        """Move the clock a minute and deliver a bar stamped then."""
        at = self.clock.tick() if advance else self.clock.now
        self.exchange.on_bar(Bar(symbol, at, o, h, lo, c, volume))

    def buy(self, qty: str = "10", **fields: object) -> str:
        return self.submit(OrderSide.BUY, qty, **fields)

    def sell(self, qty: str = "10", **fields: object) -> str:
        return self.submit(OrderSide.SELL, qty, **fields)

    def submit(self, side: OrderSide, qty: str, **fields: object) -> str:
        fields.setdefault("symbol", "AAPL")
        request = OrderRequest(side=side, qty=Decimal(qty), **fields)  # type: ignore[arg-type]
        return self.exchange.submit("acct", request).id

    def status(self, order_id: str) -> str:
        return self.exchange.get_order("acct", order_id).status.value

    def names(self) -> list[str]:
        return [e.event.value for e in self.events]


def make_desk(
    *,
    config: ExchangeConfig | None = None,
    cash: str = "100000",
    multiplier: int | None = None,
    now: datetime = OPEN_NOW,
    calendar: MarketCalendar | None = None,
    ids: Callable[[], str] | None = None,
) -> Desk:
    clock = Clock(now)
    exchange = SimExchange(
        clock=clock,
        config=config,
        calendar=calendar or MarketCalendar.nyse(),
        id_factory=ids or sequential_ids(7),
    )
    exchange.add_asset(Asset.stock("AAPL"))
    exchange.add_asset(Asset.stock("HTB", shortable=False, easy_to_borrow=False))
    exchange.add_asset(Asset.stock("WHOLE", fractionable=False))
    exchange.add_asset(Asset.crypto("BTC/USD", min_order_size=Decimal("0.0001")))
    exchange.open_account("acct", cash=Decimal(cash), multiplier=multiplier)
    desk = Desk(exchange, clock)
    exchange.subscribe(desk.events.append)
    return desk


LIMIT = OrderType.LIMIT
