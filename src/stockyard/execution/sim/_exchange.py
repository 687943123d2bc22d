"""``SimExchange``: a simulated Alpaca exchange (accounts, orders, positions, fills, events).

The sandbox serves it over Alpaca's REST and WebSocket protocols; the backtester's SimBroker
drives it in process. Deterministic: time comes only from the injected clock and the data,
ids only from the injected factory. Not thread-safe: call it from one thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from stockyard.core import (
    Account,
    Bar,
    Fill,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    TimeInForce,
    Trade,
)
from stockyard.data import MarketCalendar, Phase
from stockyard.execution.sim._build import build_orders, exposure, request_for_replace
from stockyard.execution.sim._config import ExchangeConfig
from stockyard.execution.sim._core import Engine
from stockyard.execution.sim._errors import (
    AccountNotFoundError,
    ExchangeError,
    ForbiddenError,
    InvalidRequestError,
    NotCancelableError,
    OrderNotFoundError,
    PositionNotFoundError,
    UnknownSymbolError,
)
from stockyard.execution.sim._ledger import committed, equity
from stockyard.execution.sim._rules import check_request
from stockyard.execution.sim._state import BOOK, HELD, MARKET, Ledger, Working, evolve
from stockyard.execution.sim._values import (
    Asset,
    CancelResult,
    CloseResult,
    TradeEvent,
    TradeUpdate,
    uuid4_ids,
)

__all__ = ["SimExchange"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_Q9 = Decimal("1e-9")
_MAX_LIMIT = 500


class SimExchange(Engine):
    """A matching engine with Alpaca's accounts, order rules, errors and trade updates."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        config: ExchangeConfig | None = None,
        calendar: MarketCalendar | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(
            clock=clock,
            config=config or ExchangeConfig(),
            calendar=calendar or MarketCalendar.nyse(),
            id_factory=id_factory or uuid4_ids(),
        )

    @property
    def config(self) -> ExchangeConfig:
        return self._config

    @property
    def calendar(self) -> MarketCalendar:
        return self._calendar

    # -- assets -------------------------------------------------------------------------

    def add_asset(self, asset: Asset) -> None:
        """List (or update) an instrument."""
        self._assets[asset.symbol] = asset

    def asset(self, symbol: str) -> Asset:
        """The listed asset; ``UnknownSymbolError`` (404) when there is none."""
        found = self._assets.get(symbol)
        if found is None:
            raise UnknownSymbolError(symbol, code=404, message=f"asset not found for {symbol}")
        return found

    def assets(self) -> list[Asset]:
        return list(self._assets.values())

    # -- accounts -----------------------------------------------------------------------

    def open_account(
        self,
        account_id: str,
        *,
        cash: Decimal,
        multiplier: int | None = None,
        shorting_enabled: bool | None = None,
    ) -> Account:
        """Open an account with ``cash``; ``multiplier`` 1 makes a cash account (no margin,
        no shorting), 2 or 4 a margin account (default from the config)."""
        if account_id in self._accounts:
            raise InvalidRequestError(f"account {account_id!r} already exists")
        multiplier = self._config.multiplier if multiplier is None else multiplier
        if multiplier not in (1, 2, 4):
            raise InvalidRequestError(f"multiplier must be 1, 2 or 4, got {multiplier!r}")
        shorting = self._config.shorting_enabled if shorting_enabled is None else shorting_enabled
        self._accounts[account_id] = Ledger(
            account_id, cash=Decimal(cash), multiplier=multiplier, shorting=shorting
        )
        return self.account(account_id)

    def account(self, account_id: str) -> Account:
        """Balances now: cash, equity, buying power (net of open orders), PDT state."""
        now = self._sync()
        ledger = self._ledger(account_id)
        b = self._balances(ledger)
        day = self._calendar.trading_day(now)
        return Account(
            id=ledger.id,
            cash=b.cash,
            equity=b.equity,
            buying_power=b.buying_power,
            long_market_value=b.long_value,
            short_market_value=b.short_value,
            pattern_day_trader=ledger.pdt,
            shorting_enabled=ledger.shorting and ledger.multiplier > 1,
            multiplier=Decimal(ledger.multiplier),
            daytrade_count=self._daytrade_count(ledger, day),
            last_equity=ledger.last_equity,
            non_marginable_buying_power=b.non_marginable,
            regt_buying_power=b.regt_buying_power,
            daytrading_buying_power=b.daytrading_buying_power,
            as_of=now,
        )

    def accounts(self) -> list[str]:
        return list(self._accounts)

    def set_cash(self, account_id: str, cash: Decimal) -> Account:
        """Set the cash balance (an admin action; positions and orders are kept)."""
        self._ledger(account_id).cash = Decimal(cash)
        return self.account(account_id)

    # -- orders -------------------------------------------------------------------------

    def submit(self, account_id: str, request: OrderRequest) -> Order:
        """Accept ``request`` or raise an ``ExchangeError``; a refusal changes nothing."""
        now = self._sync()
        ledger = self._ledger(account_id)
        asset = self._order_asset(request.symbol)
        if request.client_order_id is not None and request.client_order_id in ledger.by_client:
            raise InvalidRequestError("client_order_id must be unique")
        last = self._price(request.symbol)
        check_request(
            request,
            asset=asset,
            config=self._config,
            phase=self._phase,
            always_open=self._calendar.is_always_open,
            last=last,
        )
        opening, est = self._check_exposure(ledger, asset, request, last)
        self._check_pdt(ledger, asset, request.side, now)
        entry = build_orders(
            request,
            ledger=ledger,
            crypto=asset.is_crypto,
            now=now,
            ids=self._ids,
        )
        entry.opening, entry.est = opening, est
        if entry.kind != MARKET and last is not None:
            entry.hwm = float(last)
        if request.time_in_force is TimeInForce.CLS and self._phase is Phase.OPEN:
            entry.armed = True
        self._register(entry, now)
        if self._config.fill_on_submit and entry.where == BOOK and self._tradable_now(entry):
            self._match_now(entry, now)
        return self._view(entry, nested=True)

    def cancel(self, account_id: str, order_id: str) -> Order:
        """Cancel an open order (its legs and OCO sibling too); 422 when it is closed."""
        now = self._sync()
        w = self._find(self._ledger(account_id), order_id)
        if not w.live:
            raise NotCancelableError(f'order is already in "{w.order.status.value}" state')
        self._terminate(w, OrderStatus.CANCELED, now, cascade=True)
        return self._view(w, nested=True)

    def cancel_all(self, account_id: str) -> list[CancelResult]:
        """Cancel every open order; one result per order (HTTP status 200 each)."""
        now = self._sync()
        ledger = self._ledger(account_id)
        results: list[CancelResult] = []
        for w in list(ledger.open.values()):
            if w.live and (w.parent is None or not w.parent.live):
                self._terminate(w, OrderStatus.CANCELED, now, cascade=True)
                results.append(CancelResult(w.order.id, 200, self._view(w, nested=True)))
        return results

    def replace(
        self,
        account_id: str,
        order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        trail: Decimal | None = None,
        time_in_force: TimeInForce | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """Replace an open order: the old one ends ``replaced``, the new one (returned)
        carries ``replaces`` and queues behind the orders already resting."""
        now = self._sync()
        ledger = self._ledger(account_id)
        old = self._find(ledger, order_id)
        if not old.live or old.where == HELD:
            raise NotCancelableError(f'order is already in "{old.order.status.value}" state')
        request = request_for_replace(
            old,
            qty=qty,
            limit_price=limit_price,
            stop_price=stop_price,
            trail=trail,
            time_in_force=time_in_force,
            client_order_id=client_order_id,
        )
        if request.client_order_id is not None and request.client_order_id in ledger.by_client:
            raise InvalidRequestError("client_order_id must be unique")
        asset = self._order_asset(request.symbol)
        last = self._price(request.symbol)
        check_request(
            request,
            asset=asset,
            config=self._config,
            phase=self._phase,
            always_open=self._calendar.is_always_open,
            last=last,
        )
        opening, est = self._check_exposure(ledger, asset, request, last, exclude=old)
        new = build_orders(
            request,
            ledger=ledger,
            crypto=asset.is_crypto,
            now=now,
            ids=self._ids,
            order_class=old.order.order_class,
            replaces=old.order.id,
        )
        new.opening, new.est, new.hwm, new.armed = opening, est, old.hwm, old.armed
        new.parent, new.children, new.oco = old.parent, old.children, old.oco
        new.oco_secondary = old.oco_secondary
        for child in new.children:
            child.parent = new
        if old.parent is not None:
            old.parent.children[old.parent.children.index(old)] = new
        if old.oco is not None:
            old.oco.oco = new
        old.children, old.oco = [], None
        self._retire(old)
        old.order = evolve(
            old.order,
            status=OrderStatus.REPLACED,
            updated_at=now,
            replaced_at=now,
            replaced_by=new.order.id,
        )
        self._emit(TradeEvent.REPLACED, old, now)
        self._register(new, now)
        return self._view(new, nested=True)

    def get_order(self, account_id: str, order_id: str, *, nested: bool = True) -> Order:
        """One order (with its legs when ``nested``); ``OrderNotFoundError`` (404)."""
        self._sync()
        return self._view(self._find(self._ledger(account_id), order_id), nested=nested)

    def get_order_by_client_id(self, account_id: str, client_order_id: str) -> Order:
        self._sync()
        w = self._ledger(account_id).by_client.get(client_order_id)
        if w is None:
            raise OrderNotFoundError()
        return self._view(w, nested=True)

    def list_orders(
        self,
        account_id: str,
        *,
        status: Literal["open", "closed", "all"] = "open",
        limit: int = 50,
        after: datetime | None = None,
        until: datetime | None = None,
        direction: Literal["asc", "desc"] = "desc",
        symbols: Sequence[str] | None = None,
        nested: bool = False,
    ) -> list[Order]:
        """Orders by submission time, filtered as Alpaca's GET /v2/orders filters them;
        with ``nested`` legs appear inside their parent rather than on their own."""
        self._sync()
        if status not in ("open", "closed", "all") or direction not in ("asc", "desc"):
            raise InvalidRequestError("invalid status or direction")
        if not 0 < limit <= _MAX_LIMIT:
            raise InvalidRequestError(f"limit must be between 1 and {_MAX_LIMIT}")
        wanted = set(symbols) if symbols else None
        picked: list[Working] = []
        for w in self._ledger(account_id).orders:
            order = w.order
            if nested and w.parent is not None:
                continue
            if status != "all" and (status == "open") != order.status.is_open:
                continue
            stamp = order.submitted_at or order.created_at
            if (after is not None and stamp <= after) or (until is not None and stamp >= until):
                continue
            if wanted is not None and order.symbol not in wanted:
                continue
            picked.append(w)
        if direction == "desc":
            picked.reverse()
        return [self._view(w, nested=nested) for w in picked[:limit]]

    # -- positions ----------------------------------------------------------------------

    def positions(self, account_id: str) -> list[Position]:
        """Open positions, marked at the last price."""
        ledger = self._ledger(account_id)
        return [self._position(s, p.qty, p.avg) for s, p in ledger.positions.items()]

    def position(self, account_id: str, symbol: str) -> Position:
        pos = self._ledger(account_id).positions.get(symbol)
        if pos is None:
            raise PositionNotFoundError()
        return self._position(symbol, pos.qty, pos.avg)

    def close_position(
        self,
        account_id: str,
        symbol: str,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> Order:
        """Submit a market order that closes all, ``qty`` or ``percentage`` of a position."""
        pos = self._ledger(account_id).positions.get(symbol)
        if pos is None:
            raise PositionNotFoundError()
        if qty is not None and percentage is not None:
            raise InvalidRequestError("only one of qty or percentage may be given")
        held = abs(pos.qty)
        if percentage is not None:
            if not 0 < percentage <= _HUNDRED:
                raise InvalidRequestError("percentage must be in (0, 100]")
            qty = (held * percentage / _HUNDRED).quantize(_Q9, ROUND_DOWN)
            asset = self._assets.get(symbol)
            if asset is not None and not asset.is_crypto and not asset.fractionable:
                qty = qty.to_integral_value(ROUND_DOWN)
        qty = held if qty is None else qty
        if not 0 < qty <= held:
            raise ForbiddenError(
                f"insufficient qty available for order (requested: {qty}, available: {held})"
            )
        crypto = "/" in symbol
        request = OrderRequest(
            symbol=symbol,
            side=OrderSide.SELL if pos.qty > 0 else OrderSide.BUY,
            qty=qty,
            type=OrderType.MARKET,
            time_in_force=TimeInForce.GTC if crypto else TimeInForce.DAY,
        )
        return self.submit(account_id, request)

    def close_all(self, account_id: str, *, cancel_orders: bool = False) -> list[CloseResult]:
        """Close every position (canceling open orders first if asked); one result each."""
        ledger = self._ledger(account_id)
        if cancel_orders:
            self.cancel_all(account_id)
        results: list[CloseResult] = []
        for symbol in list(ledger.positions):
            try:
                results.append(CloseResult(symbol, 200, self.close_position(account_id, symbol)))
            except ExchangeError as exc:
                results.append(CloseResult(symbol, exc.code, None, exc.message))
        return results

    def fills(
        self, account_id: str, *, after: datetime | None = None, until: datetime | None = None
    ) -> list[Fill]:
        """Executions in time order, strictly after ``after`` and before ``until``."""
        return [
            f
            for f in self._ledger(account_id).fills
            if (after is None or f.timestamp > after) and (until is None or f.timestamp < until)
        ]

    # -- market -------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Trade resting orders against ``bar`` (stamped at its open) and move the session."""
        self.on_bar_values(
            bar.symbol, bar.timestamp, (bar.open, bar.high, bar.low, bar.close, bar.volume)
        )

    def on_bar_values(
        self, symbol: str, timestamp: datetime, ohlcv: tuple[float, float, float, float, float]
    ) -> None:
        """:meth:`on_bar` for a bar's values, ``(open, high, low, close, volume)`` at its UTC
        open ``timestamp``, that were validated as a ``Bar`` would be (a replay's rows)."""
        if timestamp >= self._until:
            self._advance_to(timestamp)
        o, h, lo, c, volume = ohlcv
        self._last[symbol] = c
        book = self._books.get(symbol)
        if book:
            mp = c if self._close_px else o
            self._match(book, timestamp, (o, h, lo, o, h, lo, mp, mp), volume=volume)

    def on_quote(self, quote: Quote) -> None:
        """Trade resting orders against the quote: buys at the ask, sells at the bid."""
        ts = quote.timestamp
        if ts >= self._until:
            self._advance_to(ts)
        symbol = quote.symbol
        bid, ask = quote.bid_price, quote.ask_price
        self._quotes[symbol] = (bid, ask)
        book = self._books.get(symbol)
        if book:
            self._match(book, ts, (ask, ask, ask, bid, bid, bid, ask, bid), volume=None)

    def on_trade(self, trade: Trade) -> None:
        """Trade resting orders against one print (a bar with a single price)."""
        ts = trade.timestamp
        if ts >= self._until:
            self._advance_to(ts)
        symbol, p = trade.symbol, trade.price
        self._last[symbol] = p
        book = self._books.get(symbol)
        if book:
            self._match(book, ts, (p, p, p, p, p, p, p, p), volume=trade.size)

    def advance(self, now: datetime) -> None:
        """Move the session to ``now`` with no data: opens, closes, expiries, opg/cls."""
        if now >= self._until:
            self._advance_to(now)

    def last_price(self, symbol: str) -> Decimal | None:
        """The last trade or bar close (else the quote's midpoint); ``None`` if unseen."""
        return self._price(symbol)

    def is_open(self, symbol: str, at: datetime | None = None) -> bool:
        """Whether ``symbol`` trades at ``at`` (now): crypto always, stocks in session."""
        if "/" in symbol:
            return True
        return self._calendar.is_open(self._clock() if at is None else at)

    # -- events and state ---------------------------------------------------------------

    def subscribe(self, listener: Callable[[TradeUpdate], None]) -> Callable[[], None]:
        """Call ``listener`` with every trade update; answer a function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def snapshot(self) -> dict[str, object]:
        """Everything needed to rebuild the exchange, as JSON-ready values."""
        from stockyard.execution.sim._snapshot import dump  # noqa: PLC0415 - _snapshot imports this module

        return dump(self)

    @classmethod
    def restore(
        cls,
        data: Mapping[str, object],
        *,
        clock: Callable[[], datetime],
        config: ExchangeConfig | None = None,
        calendar: MarketCalendar | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> SimExchange:
        """Rebuild an exchange from ``snapshot()``; its snapshot is then identical."""
        from stockyard.execution.sim._snapshot import load  # noqa: PLC0415 - see snapshot

        exchange = cls(clock=clock, config=config, calendar=calendar, id_factory=id_factory)
        load(exchange, data)
        return exchange

    # -- helpers ------------------------------------------------------------------------

    def _ledger(self, account_id: str) -> Ledger:
        ledger = self._accounts.get(account_id)
        if ledger is None:
            raise AccountNotFoundError(account_id)
        return ledger

    def _find(self, ledger: Ledger, order_id: str) -> Working:
        w = self._orders.get(order_id)
        if w is None or w.account is not ledger:
            raise OrderNotFoundError()
        return w

    def _order_asset(self, symbol: str) -> Asset:
        asset = self._assets.get(symbol)
        if asset is None:
            raise UnknownSymbolError(symbol)
        if not asset.tradable or asset.status != "active":
            raise UnknownSymbolError(symbol, message=f'asset "{symbol}" is not tradable')
        return asset

    def _position(self, symbol: str, qty: Decimal, avg: Decimal) -> Position:
        return Position(
            symbol=symbol, qty=qty, avg_entry_price=avg, current_price=self._price(symbol)
        )

    def _check_exposure(
        self,
        ledger: Ledger,
        asset: Asset,
        request: OrderRequest,
        last: Decimal | None,
        *,
        exclude: Working | None = None,
    ) -> tuple[Decimal, Decimal]:
        opening, est, available = exposure(
            request,
            position=ledger.positions.get(asset.symbol),
            held=committed(
                ledger, asset.symbol, buy=request.side is OrderSide.BUY, exclude=exclude
            ),
            last=last,
        )
        if request.side is OrderSide.SELL and opening > 0:
            can_short = (
                not asset.is_crypto
                and asset.shortable
                and asset.easy_to_borrow
                and ledger.shorting
                and ledger.multiplier > 1
                and request.notional is None
                and request.qty is not None
                and request.qty == request.qty.to_integral_value()
            )
            if not can_short:
                wanted = request.qty if request.qty is not None else request.notional
                raise ForbiddenError(
                    f"insufficient qty available for order (requested: {wanted}, "
                    f"available: {available})"
                )
        cost = opening * est
        if cost > 0:
            b = self._balances(ledger)
            freed = exclude.opening * exclude.est if exclude is not None else _ZERO
            cash_only = asset.is_crypto or not asset.marginable
            power = (b.non_marginable if cash_only else b.buying_power) + freed
            if cost > power:
                raise ForbiddenError("insufficient buying power")
        return opening, est

    def _check_pdt(self, ledger: Ledger, asset: Asset, side: OrderSide, now: datetime) -> None:
        if not (self._config.pdt and ledger.pdt) or asset.is_crypto or ledger.multiplier == 1:
            return
        pos = ledger.positions.get(asset.symbol)
        if pos is None or (pos.qty > 0) == (side is OrderSide.BUY):
            return
        if ledger.opened_today.get(asset.symbol) != self._calendar.trading_day(now):
            return
        if equity(ledger, self._price) < self._config.pdt_equity:
            raise ForbiddenError("trade denied due to pattern day trading protection")

    def _register(self, w: Working, now: datetime) -> None:
        ledger = w.account
        for order in (w, *w.children):
            self._orders[order.order.id] = order
            ledger.orders.append(order)
            ledger.by_client[order.order.client_order_id] = order
            ledger.open[order.order.id] = order
        tradable = self._tradable_now(w) and w.tif is not TimeInForce.OPG
        status = OrderStatus.NEW if tradable else OrderStatus.ACCEPTED
        if status is not OrderStatus.NEW:
            w.order = evolve(w.order, status=status)
        self._books.setdefault(w.symbol, []).append(w)
        for child in w.children:
            if child.where == BOOK:  # an OCO's stop leg works at once
                self._books[w.symbol].append(child)
                if status is not OrderStatus.NEW:
                    child.order = evolve(child.order, status=status)
        self._emit(TradeEvent.NEW if tradable else TradeEvent.ACCEPTED, w, now)

    def _match_now(self, w: Working, now: datetime) -> None:
        quote = self._quotes.get(w.symbol)
        if quote is not None and quote[0] > 0 and quote[1] > 0:
            bid, ask = quote
            self._match([w], now, (ask, ask, ask, bid, bid, bid, ask, bid), volume=None)
            return
        last = self._last.get(w.symbol)
        if last is not None:
            self._match([w], now, (last,) * 8, volume=None)
