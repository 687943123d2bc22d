"""The sandbox itself: one exchange, its replay clock and market, its streams and its state.

Routes are thin: they parse, call one method here (or the exchange under ``locked``), and
shape the answer. Everything runs on the server's event loop; the lock guards calls made
from other threads (an in-process ``stockyard up``, a benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from stockyard.core import AssetClass, Quote, Trade, ns_to_datetime, to_ns
from stockyard.data import HistoricalSource, MarketCalendar, SyntheticSource
from stockyard.execution import Asset, ExchangeConfig, SimExchange, TradeUpdate, uuid4_ids
from stockyard.obs import get_logger
from stockyard.sandbox._accounts import AccountBook
from stockyard.sandbox._config import SandboxConfig
from stockyard.sandbox._faults import FaultInjector
from stockyard.sandbox._http import RateLimiter
from stockyard.sandbox._market import MarketState
from stockyard.sandbox._md_stream import MarketDataHub
from stockyard.sandbox._md_wire import Message, status_message
from stockyard.sandbox._replay import MarketEvent, ReplayClock, Timeline
from stockyard.sandbox._state import StateStore
from stockyard.sandbox._synth import SynthesisConfig
from stockyard.sandbox._trade_stream import TradeUpdateHub
from stockyard.sandbox._wire import trade_update_json

__all__ = ["Sandbox"]

_log = get_logger("sandbox")
_STATE_VERSION = 1
_GAP_S = 15 * 60.0  # with skip_gaps, a quiet stretch longer than this is jumped over


def default_exchange_config() -> ExchangeConfig:
    """Marketable orders fill at once against the latest quote, as a live venue would."""
    return ExchangeConfig(fill_on_submit=True)


class Sandbox:
    """A local exchange that speaks Alpaca's protocols, over replayed market data."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.calendar = MarketCalendar.nyse()
        self.source: HistoricalSource = config.source or SyntheticSource(seed=config.seed)
        self._store = StateStore.at(config.state_path) if config.state_path else None
        if self._store is not None and config.reset:
            self._store.clear()
        saved = self._store.load() if self._store is not None else None
        start = config.start or self._saved_clock(saved) or self._default_start()
        self.clock = ReplayClock(start, speed=config.speed)
        self.faults = FaultInjector(config.faults)
        self.rate_limiter = RateLimiter(config.rate_limit_per_min)
        self.lock = threading.RLock()
        self.market = self._new_market()
        self.md_hub = MarketDataHub(
            authenticate=lambda k, s: self.authenticate(k, s) is not None,
            faults=self.faults,
            limits=config.limits,
        )
        self.trade_hub = TradeUpdateHub(authenticate=self.authenticate, faults=self.faults)
        self.exchange = self._build_exchange(saved)
        self.accounts = self._restore_accounts(saved)
        self._recorded_minute = -1
        self._timeline = self._new_timeline(start)
        self._wake = asyncio.Event()
        self._dirty = asyncio.Event()
        self._stopping = False
        self._open_now: bool | None = None
        self.created_at = start
        self.events = 0

    # -- credentials -------------------------------------------------------------------

    def authenticate(self, key_id: str, secret_key: str) -> str | None:
        """The account id these credentials trade, or ``None``."""
        ok = hmac.compare_digest(key_id.encode(), self.config.key_id.encode())
        ok = hmac.compare_digest(secret_key.encode(), self.config.secret_key.encode()) and ok
        return self.config.account_id if ok else None

    # -- exchange ----------------------------------------------------------------------

    def _build_exchange(self, saved: dict[str, object] | None) -> SimExchange:
        config = self.config.exchange or default_exchange_config()
        account_id = self.config.account_id
        exchange = self._restore(saved, config) if saved is not None else None
        if exchange is None:
            exchange = SimExchange(
                clock=self.clock.now, config=config, calendar=self.calendar, id_factory=uuid4_ids()
            )
        if account_id not in exchange.accounts():
            # A first start, or a restart with other keys: the saved accounts are kept.
            exchange.open_account(account_id, cash=self.config.cash)
            if saved is not None:
                _log.info("sandbox account opened for a new key", kept=len(exchange.accounts()) - 1)
        known = {a.symbol for a in exchange.assets()}
        for symbol in self.config.symbols:
            if symbol not in known:
                crypto = AssetClass.of_symbol(symbol) is AssetClass.CRYPTO
                exchange.add_asset(Asset.crypto(symbol) if crypto else Asset.stock(symbol))
        exchange.subscribe(self._on_trade_update)
        return exchange

    def _restore(self, saved: dict[str, object], config: ExchangeConfig) -> SimExchange:
        assert self._store is not None
        snapshot = saved.get("exchange")
        if saved.get("version") != _STATE_VERSION or not isinstance(snapshot, dict):
            raise self._store.unusable(
                f"saved by another version of the sandbox (state version {saved.get('version')!r})"
            )
        try:
            exchange = SimExchange.restore(
                snapshot, clock=self.clock.now, config=config, calendar=self.calendar
            )
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            raise self._store.unusable(f"the saved exchange does not load: {exc!r}") from None
        _log.info("sandbox state restored", accounts=len(exchange.accounts()))
        return exchange

    def _restore_accounts(self, saved: dict[str, object] | None) -> AccountBook:
        if saved is None:
            return AccountBook()
        try:
            return AccountBook.restore(saved.get("accounts"))
        except (KeyError, TypeError, ValueError) as exc:
            assert self._store is not None
            raise self._store.unusable(f"its accounts do not load: {exc!r}") from None

    def _record_equity(self, now_ns: int) -> None:
        """One point per simulated minute per account (the portfolio history's source):
        the equity as the minute's first event or step finds it."""
        minute = now_ns // 60_000_000_000
        if minute == self._recorded_minute:
            return
        self._recorded_minute = minute
        at = now_ns // 1_000_000_000
        for account_id in self.exchange.accounts():
            equity = float(self.exchange.account(account_id).equity)
            self.accounts.record_equity(account_id, at, equity)

    def _saved_clock(self, saved: dict[str, object] | None) -> datetime | None:
        if saved is None or saved.get("clock") is None:
            return None
        try:
            at = datetime.fromisoformat(str(saved["clock"]))
        except ValueError:
            assert self._store is not None
            raise self._store.unusable(f"its clock {saved['clock']!r} is not a time") from None
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def _on_trade_update(self, update: TradeUpdate) -> None:
        self.trade_hub.publish(update.account_id, trade_update_json(update))
        self.mark_dirty()

    @contextlib.contextmanager
    def locked(self) -> Iterator[SimExchange]:
        """The exchange, for one call or a few, under the sandbox's lock."""
        with self.lock:
            yield self.exchange

    def resolve_symbol(self, symbol: str) -> str:
        """``BTCUSD`` and ``btc/usd`` name ``BTC/USD`` when that is the asset we know."""
        text = symbol.strip().upper()
        if "/" in text:
            return text
        with self.lock:
            for asset in self.exchange.assets():
                if asset.is_crypto and asset.symbol.replace("/", "") == text:
                    return asset.symbol
        return text

    # -- replay ------------------------------------------------------------------------

    def _default_start(self) -> datetime:
        """The open of the last full NYSE session before today (a realistic first view)."""
        today = datetime.now(UTC).date()
        sessions = self.calendar.sessions(today - timedelta(days=10), today - timedelta(days=1))
        if sessions:
            return sessions[-1][1]
        return datetime.now(UTC) - timedelta(days=1)

    def _new_market(self) -> MarketState:
        return MarketState(
            self.source,
            clock=self.clock.now,
            synthesis=SynthesisConfig(seed=self.config.seed),
            actions=self.config.reference.corporate_actions,
        )

    def _new_timeline(self, start: datetime) -> Timeline:
        synthesis = SynthesisConfig(seed=self.config.seed)
        return Timeline(self.source, self.config.symbols, start, synthesis=synthesis)

    async def run(self) -> None:
        """Drive the replay until ``stop``: release events as the clock passes them."""
        while not self._stopping:
            speed = self.clock.speed
            if speed == 0:
                await self._sleep(1.0)
                continue
            next_ns = await self._peek()
            if next_ns is None:
                await self._sleep(0.5)
                continue
            if math.isinf(speed):
                self.clock.set(ns_to_datetime(next_ns))
                self.step_now()
                await asyncio.sleep(0)
                continue
            now_ns = to_ns(self.clock.now())
            gap_s = (next_ns - now_ns) / 1e9
            if self.config.skip_gaps and gap_s > _GAP_S:
                self.clock.set(ns_to_datetime(next_ns))
                gap_s = 0.0
            if gap_s > 0:
                await self._sleep(min(gap_s / speed, 0.1))
            self.step_now()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _peek(self) -> int | None:
        # Loading a day of bars can take a while; do it off the loop.
        return await asyncio.to_thread(self._timeline.peek_ns)

    def step_now(self) -> int:
        """Release every loaded event due by now; returns how many."""
        now = self.clock.now()
        events = self._timeline.pop_until(to_ns(now))
        self._apply(events, now)
        return len(events)

    async def step_to(self, at: datetime) -> int:
        """Move the clock to ``at`` and release everything due by then (admin, tests)."""
        self.clock.set(at)
        target, count = to_ns(self.clock.now()), 0
        while (next_ns := await self._peek()) is not None and next_ns <= target:
            events = self._timeline.pop_until(target)
            count += len(events)
            self._apply(events, self.clock.now())
        self._apply([], self.clock.now())
        self._wake.set()
        return count

    def _apply(self, events: list[MarketEvent], now: datetime) -> None:
        messages: list[Message] = []
        with self.lock:
            for event in events:
                if event.due_ns // 60_000_000_000 != self._recorded_minute:
                    self._record_equity(event.due_ns)
                messages.extend(self.market.record(event))
                # The exchange trades against the ticks only: they carry the bar's prices
                # and its whole volume, so matching the bar as well would count it twice.
                value = event.value
                if isinstance(value, Quote):
                    self.exchange.on_quote(value)
                elif isinstance(value, Trade):
                    self.exchange.on_trade(value)
            self.exchange.advance(now)
            self._record_equity(to_ns(now))
            messages.extend(self._statuses(now))
        self.events += len(events)
        self.md_hub.publish(messages)

    def _statuses(self, now: datetime) -> list[Message]:
        is_open = self.calendar.is_open(now)
        if is_open == self._open_now:
            return []
        self._open_now = is_open
        return [
            status_message(s, now, trading=is_open) for s in self.config.symbols if "/" not in s
        ]

    # -- admin -------------------------------------------------------------------------

    @property
    def replay_ended(self) -> bool:
        """Whether the replay has run out of data: no market data will come any more."""
        return self._timeline.ended

    def reset(self) -> None:
        """Back to a fresh account and the configured start; saved state is replaced."""
        with self.lock:
            start = self.config.start or self._default_start()
            self.clock = ReplayClock(start, speed=self.clock.speed)
            self.market = self._new_market()
            self.exchange = self._build_exchange(None)
            self.accounts = AccountBook()
            self._recorded_minute = -1
            self._timeline = self._new_timeline(start)
            self._open_now = None
        self.mark_dirty()
        self._wake.set()

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)
        self._wake.set()

    # -- state -------------------------------------------------------------------------

    def mark_dirty(self) -> None:
        if self._store is not None:
            self._dirty.set()

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return {
                "version": _STATE_VERSION,
                "clock": self.clock.now().isoformat(),
                "exchange": self.exchange.snapshot(),
                "accounts": self.accounts.snapshot(),
            }

    async def persist(self) -> None:
        """Save soon after each change (debounced), off the loop, until ``stop``."""
        if self._store is None:
            return
        store = self._store
        while not self._stopping:
            await self._dirty.wait()
            await asyncio.sleep(self.config.save_debounce_s)
            self._dirty.clear()
            data = self.snapshot()
            try:
                await asyncio.to_thread(store.save, data)
            except Exception as exc:  # a failed save is logged; the next one retries
                _log.error("sandbox state not saved", error=str(exc))
                self._dirty.set()

    def stop(self) -> None:
        """Stop the replay, close the streams, and save the state one last time."""
        self._stopping = True
        self._wake.set()
        self._dirty.set()
        self.md_hub.close_all()
        self.trade_hub.close_all()
        if self._store is not None:
            self._store.save(self.snapshot())
            self._store.close()
