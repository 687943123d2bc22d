"""The engine under ``SimExchange``: books, matching, fills, session transitions, events.

We write our own matching loop (DESIGN.md §7) because the backtester drives it a million
bars a second: resting orders sit in plain lists keyed by symbol, a bar for a symbol with
nothing resting costs a dict lookup, and public ``Order`` values are rebuilt only on change.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from stockyard.core import Fill, Order, OrderSide, OrderStatus, TimeInForce, maker
from stockyard.data import MarketCalendar, Phase
from stockyard.execution.sim._config import ExchangeConfig, tick_round
from stockyard.execution.sim._ledger import Balances, apply_fill, balances, committed, equity
from stockyard.execution.sim._matching import dec, fill_price, trail_stop
from stockyard.execution.sim._state import (
    BOOK,
    DONE,
    HELD,
    LIMIT,
    MARKET,
    TRAIL,
    Ledger,
    Working,
    evolve,
)
from stockyard.execution.sim._values import Asset, TradeEvent, TradeUpdate
from stockyard.obs import get_logger
from stockyard.resilience import MoneyPathError

__all__ = ["Engine", "Tick"]

Tick = tuple[float, float, float, float, float, float, float, float]
"""Buy side open/high/low, sell side open/high/low, market price for buys, for sells."""

_ZERO = Decimal(0)
_Q9 = Decimal("1e-9")
_INF = float("inf")
_MONTH = timedelta(days=30)
_IOC, _FOK, _OPG, _CLS, _DAY = (
    TimeInForce.IOC,
    TimeInForce.FOK,
    TimeInForce.OPG,
    TimeInForce.CLS,
    TimeInForce.DAY,
)
_log = get_logger("execution")
_fill_value = maker(Fill)  # Fill(...) and TradeUpdate(...), cheaper (see ``_make``)
_update = maker(TradeUpdate)


class Engine:
    """State and mechanics; ``SimExchange`` adds the public, validating surface.

    A trade update listener that raises is a money-path fault: the exchange names the
    listener and the update in a ``MoneyPathError`` and hands it to ``on_listener_error``
    (a backtest raises it: the run aborts); without one (the sandbox, serving many
    clients) it is logged as critical, counted in ``listener_failures``, and the other
    listeners still hear the update. A ``MoneyPathError`` a listener raises itself (the
    order manager's, judged below) always propagates."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        config: ExchangeConfig,
        calendar: MarketCalendar,
        id_factory: Callable[[], str],
    ) -> None:
        self._clock = clock
        self._config = config
        self._calendar = calendar
        self._ids = id_factory
        self._assets: dict[str, Asset] = {}
        self._accounts: dict[str, Ledger] = {}
        self._orders: dict[str, Working] = {}
        self._books: dict[str, list[Working]] = {}
        self._last: dict[str, float] = {}
        self._quotes: dict[str, tuple[float, float]] = {}
        self._listeners: list[Callable[[TradeUpdate], None]] = []
        self.on_listener_error: Callable[[MoneyPathError], None] | None = None
        self.listener_failures = 0
        self._phase, self._until = calendar.phase(clock())
        self._through = config.limit_fill == "through"
        self._close_px = config.market_price == "close"
        self._part = config.participation
        self._strict = config.strict_timestamps

    # -- time ---------------------------------------------------------------------------

    def _sync(self) -> datetime:
        now = self._clock()
        if now >= self._until:
            self._advance_to(now)
        return now

    def _advance_to(self, t: datetime) -> None:
        while t >= self._until:
            at = self._until
            self._phase, self._until = self._calendar.phase(at)
            self._on_phase(at)

    def _on_phase(self, at: datetime) -> None:
        phase = self._phase
        for ledger in self._accounts.values():
            for w in list(ledger.open.values()):
                if w.crypto or w.where != BOOK:
                    continue
                if phase is Phase.OPEN or (phase is Phase.PRE and w.extended):
                    if w.tif is _OPG:
                        w.armed = True
                    if w.order.status is OrderStatus.ACCEPTED:
                        self._restate(w, OrderStatus.NEW, at, TradeEvent.NEW)
                elif phase is Phase.POST:
                    self._at_close(w, at)
                elif phase is Phase.CLOSED and w.tif is _DAY and w.extended:
                    self._terminate(w, OrderStatus.EXPIRED, at)
        if phase is Phase.POST:
            for ledger in self._accounts.values():
                ledger.last_equity = self._balances(ledger).equity

    def _at_close(self, w: Working, at: datetime) -> None:
        tif = w.tif
        if tif is _CLS and w.armed and w.symbol in self._last:
            last = self._last[w.symbol]
            if w.kind == MARKET:
                px: Decimal | None = dec(last)
            else:
                px = fill_price(w, last, last, last, through=self._through)
            if px is not None:
                self._fill(w, w.remaining, px, at, maker=False)
        if w.live and (tif is _CLS or tif is _OPG):
            self._terminate(w, OrderStatus.CANCELED, at)
        elif w.live and tif is _DAY and not w.extended:
            self._terminate(w, OrderStatus.EXPIRED, at)

    def _tradable_now(self, w: Working) -> bool:
        phase = self._phase
        return w.crypto or phase is Phase.OPEN or (w.extended and phase in (Phase.PRE, Phase.POST))

    # -- matching -----------------------------------------------------------------------

    def _match(  # noqa: PLR0912 - the hot loop, kept in one piece on purpose
        self, book: list[Working], ts: datetime, tick: Tick, *, volume: float | None
    ) -> None:
        strict, through = self._strict, self._through
        phase = self._phase
        is_open = phase is Phase.OPEN
        extended = phase is Phase.PRE or phase is Phase.POST
        bo, bh, bl, so, sh, sl, mb, ms = tick
        part = self._part
        cap = _INF if part is None or volume is None else volume * part
        for w in book.copy():
            if w.where != BOOK or (strict and ts < w.submitted):
                continue
            tif = w.tif
            auction = False
            if not w.crypto:
                if not is_open and not (w.extended and extended):
                    continue
                if tif is _CLS:
                    w.armed = True
                    continue
                if tif is _OPG:
                    if not w.armed:
                        continue
                    auction = True
            if w.buy:
                if bo <= 0.0:
                    continue
                if auction:
                    px = fill_price(w, bo, bo, bo, through=through)
                else:
                    px = dec(mb) if w.kind == MARKET else fill_price(w, bo, bh, bl, through=through)
            else:
                if so <= 0.0:
                    continue
                if auction:
                    px = fill_price(w, so, so, so, through=through)
                else:
                    px = dec(ms) if w.kind == MARKET else fill_price(w, so, sh, sl, through=through)
            done = tif is _IOC or tif is _FOK or auction
            if px is not None:
                q = self._execute(w, px, ts, cap=cap, volume=volume)
                cap -= float(q)
            else:
                w.seen = True
            if done and w.where == BOOK:
                self._terminate(w, OrderStatus.CANCELED, ts)

    def _execute(
        self, w: Working, px: Decimal, ts: datetime, *, cap: float, volume: float | None
    ) -> Decimal:
        """Size and price one fill of ``w`` at ``px`` within ``cap`` shares; answer the qty."""
        notional = w.order.notional if w.qty is None else None
        rem = (notional / px).quantize(_Q9, ROUND_DOWN) if notional is not None else w.remaining
        if cap == _INF:
            q = rem
        else:
            q = Decimal(int(cap)) if w.whole else Decimal(repr(cap)).quantize(_Q9, ROUND_DOWN)
            q = min(q, rem)
        if q <= 0 or (w.tif is _FOK and q < rem):
            return _ZERO
        maker = w.seen and w.kind == LIMIT
        if not maker:
            side = OrderSide.BUY if w.buy else OrderSide.SELL
            slipped = self._config.slippage(side=side, price=px, qty=q, volume=volume)
            if slipped != px:
                slipped = tick_round(slipped, side=side, crypto=w.crypto)
                limit = w.limit_d
                if w.kind == LIMIT and limit is not None:
                    slipped = min(slipped, limit) if w.buy else max(slipped, limit)
                px = slipped
        if notional is not None:
            total = (notional / px).quantize(_Q9, ROUND_DOWN)
            w.qty = w.remaining = total
            q = min(q, total)
            if q <= 0:
                return _ZERO
        self._fill(w, q, px, ts, maker=maker)
        return q

    # -- fills --------------------------------------------------------------------------

    def _fill(self, w: Working, q: Decimal, px: Decimal, ts: datetime, *, maker: bool) -> None:
        ledger = w.account
        config = self._config
        side = OrderSide.BUY if w.buy else OrderSide.SELL
        if w.crypto:
            volume_30d = self._crypto_volume(ledger, ts)
            fee = config.crypto_fees(side=side, qty=q, price=px, maker=maker, volume_30d=volume_30d)
            ledger.crypto_volume.append((ts, q * px))
        else:
            fee = config.stock_fees(side=side, qty=q, price=px, maker=maker, volume_30d=_ZERO)
        closing = max(w.remaining - w.opening, _ZERO)
        w.opening = max(w.opening - max(q - closing, _ZERO), _ZERO)
        position_qty, opened, reduced = apply_fill(ledger, w, qty=q, price=px, fee=fee, at=ts)
        if not w.crypto and config.pdt:
            self._count_day_trade(ledger, w, ts, opened=opened, reduced=reduced)
        w.filled += q
        w.cost += q * px
        w.remaining -= q
        done = w.remaining <= 0
        order = w.order
        fill_id = self._ids()
        w.order = evolve(
            order,
            qty=w.qty,
            status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
            filled_qty=w.filled,
            filled_avg_price=w.cost / w.filled,
            updated_at=ts,
            filled_at=ts if done else order.filled_at,
        )
        ledger.fills.append(
            _fill_value(
                id=fill_id,
                order_id=order.id,
                client_order_id=order.client_order_id,
                symbol=w.symbol,
                side=side,
                qty=q,
                price=px,
                timestamp=ts,
                fee=fee,
                cumulative_qty=w.filled,
                leaves_qty=w.remaining,
            )
        )
        if done:
            self._retire(w)
        event = TradeEvent.FILL if done else TradeEvent.PARTIAL_FILL
        self._emit(
            event,
            w,
            ts,
            price=px,
            qty=q,
            position_qty=position_qty,
            execution_id=fill_id,
            fee=fee,
        )
        if done:
            for child in reversed(w.children):
                if child.where == HELD:
                    self._activate(child, w.filled, ts)
        sibling = w.oco
        if sibling is not None and sibling.live:
            if done:
                self._terminate(sibling, OrderStatus.CANCELED, ts)
            elif sibling.remaining > w.remaining:
                sibling.qty = sibling.filled + w.remaining
                sibling.remaining = w.remaining
                sibling.order = evolve(sibling.order, qty=sibling.qty, updated_at=ts)

    def _count_day_trade(
        self, ledger: Ledger, w: Working, ts: datetime, *, opened: bool, reduced: bool
    ) -> None:
        day = self._calendar.trading_day(ts)
        if reduced and not w.daytrade and ledger.opened_today.get(w.symbol) == day:
            w.daytrade = True
            ledger.daytrades.append(day)
            config = self._config
            if (
                ledger.multiplier > 1
                and self._daytrade_count(ledger, day) >= config.pdt_day_trades
                and equity(ledger, self._price) < config.pdt_equity
            ):
                ledger.pdt = True
        if opened:
            ledger.opened_today[w.symbol] = day

    def _daytrade_count(self, ledger: Ledger, day: date) -> int:
        start = self._calendar.window_start(day, self._config.pdt_window)
        trades = ledger.daytrades  # in time order
        if trades and trades[0] < start:  # older ones never count again
            del trades[: bisect_left(trades, start)]
        return bisect_right(trades, day)

    def _crypto_volume(self, ledger: Ledger, ts: datetime) -> Decimal:
        history = ledger.crypto_volume
        while history and history[0][0] <= ts - _MONTH:
            history.pop(0)
        return sum((v for _, v in history), _ZERO)

    # -- order life cycle ---------------------------------------------------------------

    def _retire(self, w: Working) -> None:
        if w.where == BOOK:
            book = self._books.get(w.symbol)
            if book is not None and w in book:
                book.remove(w)
        w.where = DONE
        w.account.open.pop(w.order.id, None)

    def _terminate(
        self, w: Working, status: OrderStatus, at: datetime, *, cascade: bool = False
    ) -> None:
        """Cancel or expire ``w``; held legs follow (activated for what the entry filled)."""
        self._retire(w)
        stamp = {"expired_at": at} if status is OrderStatus.EXPIRED else {"canceled_at": at}
        w.order = evolve(w.order, status=status, updated_at=at, **stamp)
        event = TradeEvent.EXPIRED if status is OrderStatus.EXPIRED else TradeEvent.CANCELED
        self._emit(event, w, at)
        for child in reversed(w.children):
            if child.where == HELD:
                if w.filled > 0:
                    self._activate(child, w.filled, at)
                else:
                    self._terminate(child, OrderStatus.CANCELED, at)
        if cascade and w.oco is not None and w.oco.live:
            self._terminate(w.oco, OrderStatus.CANCELED, at)

    def _activate(self, w: Working, qty: Decimal, at: datetime) -> None:
        """A held leg goes to work for ``qty`` once its entry has filled."""
        w.qty = w.remaining = qty
        w.submitted = at
        w.where = BOOK
        status = OrderStatus.NEW if self._tradable_now(w) else OrderStatus.ACCEPTED
        w.order = evolve(w.order, qty=qty, status=status, updated_at=at, submitted_at=at)
        self._books.setdefault(w.symbol, []).append(w)
        event = TradeEvent.NEW if status is OrderStatus.NEW else TradeEvent.ACCEPTED
        self._emit(event, w, at)

    def _restate(self, w: Working, status: OrderStatus, at: datetime, event: TradeEvent) -> None:
        w.order = evolve(w.order, status=status, updated_at=at)
        self._emit(event, w, at)

    # -- views and events ---------------------------------------------------------------

    def _view(self, w: Working, *, nested: bool) -> Order:
        order = w.order
        if w.kind == TRAIL and w.hwm is not None and w.live:
            order = evolve(order, hwm=dec(w.hwm), stop_price=trail_stop(w, w.hwm))
        if nested and w.children:
            legs = tuple(self._view(c, nested=False) for c in w.children)
            order = evolve(order, legs=legs)
        return order

    def _emit(
        self,
        event: TradeEvent,
        w: Working,
        at: datetime,
        *,
        price: Decimal | None = None,
        qty: Decimal | None = None,
        position_qty: Decimal | None = None,
        execution_id: str | None = None,
        fee: Decimal | None = None,
    ) -> None:
        if not self._listeners:
            return
        update = _update(
            event=event,
            order=self._view(w, nested=True),
            timestamp=at,
            account_id=w.account.id,
            price=price,
            qty=qty,
            position_qty=position_qty,
            execution_id=execution_id,
            fee=fee,
        )
        for listener in tuple(self._listeners):
            try:
                listener(update)
            except MoneyPathError:
                raise
            except Exception as exc:
                self._listener_failed(listener, update, exc)

    def _listener_failed(
        self, listener: Callable[[TradeUpdate], None], update: TradeUpdate, exc: Exception
    ) -> None:
        name = getattr(listener, "__qualname__", None) or repr(listener)
        order = update.order
        what = f"{update.event.value} of {order.client_order_id} ({order.side.value} {order.symbol}"
        what += f", {update.qty} @ {update.price})" if update.qty is not None else ")"
        self.listener_failures += 1
        _log.critical("trade update listener failed", listener=name, update=what, error=repr(exc))
        error = MoneyPathError(
            f"trade update listener {name} raised on {what}: {exc!r}",
            context={"listener": name, "update": what},
            cause=exc,
        )
        if self.on_listener_error is not None:
            self.on_listener_error(error)

    def _balances(self, ledger: Ledger) -> Balances:
        return balances(ledger, self._price, pdt_equity=self._config.pdt_equity)

    def _price(self, symbol: str) -> Decimal | None:
        last = self._last.get(symbol)
        if last is not None:
            return dec(last)
        quote = self._quotes.get(symbol)
        if quote is None:
            return None
        bid, ask = quote
        return (dec(bid) + dec(ask)) / 2 if bid and ask else dec(bid or ask)

    def _held(self, ledger: Ledger, symbol: str, *, buy: bool) -> Decimal:
        return committed(ledger, symbol, buy=buy)
