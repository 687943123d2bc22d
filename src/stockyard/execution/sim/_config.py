"""How the simulated exchange fills, charges and lends: fee and slippage models and the
``ExchangeConfig`` that carries them. Every amount is an exact ``Decimal``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal, Protocol

from stockyard.config import ExchangeSettings
from stockyard.core import OrderSide

__all__ = [
    "ALPACA_CRYPTO_TIERS",
    "BpsSlippage",
    "CompositeFee",
    "CryptoTierFee",
    "ExchangeConfig",
    "FeeModel",
    "NoSlippage",
    "PerShareFee",
    "PerTradeFee",
    "RegulatoryFee",
    "SlippageModel",
    "VolumeSlippage",
    "ZeroFee",
]

_CENT = Decimal("0.01")
_BPS = Decimal(10_000)
_ZERO = Decimal(0)


class FeeModel(Protocol):
    """What one fill costs, in dollars, rounded as the venue rounds."""

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal: ...


class SlippageModel(Protocol):
    """The price a taker fill really gets, from the price the convention gives."""

    def __call__(
        self, *, side: OrderSide, price: Decimal, qty: Decimal, volume: float | None
    ) -> Decimal: ...


def _up_to_cent(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class ZeroFee:
    """No commission (Alpaca's stock default)."""

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal:
        return _ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class RegulatoryFee:
    """SEC fee (``sec_rate`` × notional) and FINRA TAF (``taf_per_share``, capped at
    ``taf_max``) on sells only, each rounded up to the cent."""

    sec_rate: Decimal = Decimal("0.0000278")
    taf_per_share: Decimal = Decimal("0.000166")
    taf_max: Decimal = Decimal("8.30")

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal:
        if side is OrderSide.BUY:
            return _ZERO
        sec = _up_to_cent(qty * price * self.sec_rate)
        taf = min(_up_to_cent(qty * self.taf_per_share), self.taf_max)
        return sec + taf


@dataclass(frozen=True, slots=True, kw_only=True)
class PerShareFee:
    """``per_share`` × qty, clamped to ``[minimum, maximum]`` per fill, rounded up to the cent."""

    per_share: Decimal
    minimum: Decimal = _ZERO
    maximum: Decimal | None = None

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal:
        fee = max(_up_to_cent(qty * self.per_share), self.minimum)
        return fee if self.maximum is None else min(fee, self.maximum)


@dataclass(frozen=True, slots=True, kw_only=True)
class PerTradeFee:
    """A flat ``amount`` per fill."""

    amount: Decimal

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal:
        return self.amount


# Alpaca's crypto tiers: (30-day volume from, maker bps, taker bps). As published in
# "What is Alpaca's Maker/Taker Fee Model?" (https://alpaca.markets/support/crypto-maker-taker-gmt-faq,
# effective 13 March 2023; the same table as Alpaca Crypto LLC's fee disclosure): 0-100k
# 0.15 %/0.25 %, 100k-500k 0.12/0.22, 500k-1M 0.10/0.20, 1M-10M 0.08/0.18, 10M-25M 0.05/0.15,
# 25M-50M 0.02/0.13, 50M-100M 0.02/0.12, 100M+ 0.00/0.10. Backtests charge them on crypto
# by default (``backtest.fees``; ``crypto:zero`` turns them off).
ALPACA_CRYPTO_TIERS: tuple[tuple[Decimal, Decimal, Decimal], ...] = (
    (Decimal(0), Decimal(15), Decimal(25)),
    (Decimal(100_000), Decimal(12), Decimal(22)),
    (Decimal(500_000), Decimal(10), Decimal(20)),
    (Decimal(1_000_000), Decimal(8), Decimal(18)),
    (Decimal(10_000_000), Decimal(5), Decimal(15)),
    (Decimal(25_000_000), Decimal(2), Decimal(13)),
    (Decimal(50_000_000), Decimal(2), Decimal(12)),
    (Decimal(100_000_000), Decimal(0), Decimal(10)),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CryptoTierFee:
    """Maker/taker basis points chosen by the account's 30-day crypto volume (before this
    fill); charged in dollars, rounded up to the cent."""

    tiers: Sequence[tuple[Decimal, Decimal, Decimal]] = ALPACA_CRYPTO_TIERS

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal:
        bps = _ZERO
        for threshold, maker_bps, taker_bps in self.tiers:
            if volume_30d >= threshold:
                bps = maker_bps if maker else taker_bps
        return _up_to_cent(qty * price * bps / _BPS)


@dataclass(frozen=True, slots=True)
class CompositeFee:
    """The sum of several fee models (e.g. per-share commission plus regulatory fees)."""

    models: tuple[FeeModel, ...]

    def __call__(
        self, *, side: OrderSide, qty: Decimal, price: Decimal, maker: bool, volume_30d: Decimal
    ) -> Decimal:
        return sum(
            (
                m(side=side, qty=qty, price=price, maker=maker, volume_30d=volume_30d)
                for m in self.models
            ),
            _ZERO,
        )


def _worse(side: OrderSide, price: Decimal, bps: Decimal) -> Decimal:
    """``price`` moved ``bps`` against the trader."""
    if side is OrderSide.BUY:
        return price * (_BPS + bps) / _BPS
    return price * (_BPS - bps) / _BPS


@dataclass(frozen=True, slots=True)
class NoSlippage:
    """Fills at the convention's price."""

    def __call__(
        self, *, side: OrderSide, price: Decimal, qty: Decimal, volume: float | None
    ) -> Decimal:
        return price


@dataclass(frozen=True, slots=True)
class BpsSlippage:
    """A fixed ``bps`` against the trader on every taker fill."""

    bps: Decimal

    def __call__(
        self, *, side: OrderSide, price: Decimal, qty: Decimal, volume: float | None
    ) -> Decimal:
        return _worse(side, price, self.bps)


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeSlippage:
    """``impact_bps`` × (fill qty / bar volume) against the trader, at most ``max_bps``;
    ``max_bps`` when the volume is unknown (a quote) or zero."""

    impact_bps: Decimal
    max_bps: Decimal

    def __call__(
        self, *, side: OrderSide, price: Decimal, qty: Decimal, volume: float | None
    ) -> Decimal:
        if not volume:
            return _worse(side, price, self.max_bps)
        bps = min(self.impact_bps * qty / Decimal(repr(volume)), self.max_bps)
        return _worse(side, price, bps)


def tick_round(price: Decimal, *, side: OrderSide, crypto: bool) -> Decimal:
    """A slipped stock price on the tick (a cent from $1, else $0.0001), rounded against the
    trader; crypto prices are left exact."""
    if crypto:
        return price
    tick = _CENT if price >= 1 else Decimal("0.0001")
    return price.quantize(tick, rounding=ROUND_CEILING if side is OrderSide.BUY else ROUND_FLOOR)


_DEFAULTS = ExchangeSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeConfig:
    """Fill conventions, costs and account rules of a ``SimExchange`` (see docs/matching.md).

    - ``market_price``: a market order fills at the next bar's ``open`` (default) or ``close``.
    - ``limit_fill``: ``touch`` fills a limit when the range reaches it; ``through`` only
      when the range goes beyond it.
    - ``participation``: at most this fraction of a bar's volume (a trade's size) per order
      per data point; ``None`` fills in full.
    - ``strict_timestamps``: data stamped before an order's submission never fills it.
    - ``fill_on_submit``: marketable orders fill at once against the latest quote (or last
      price) instead of waiting for the next data point; for interactive sandboxes.
    - ``multiplier``: the margin multiplier of new accounts (1 = cash account).
    - ``pdt``: apply the pattern-day-trader rule (``pdt_day_trades`` day trades within
      ``pdt_window`` sessions flag an account under ``pdt_equity``; flagged accounts may not
      day trade).
    """

    market_price: Literal["open", "close"] = _DEFAULTS.market_price
    limit_fill: Literal["touch", "through"] = _DEFAULTS.limit_fill
    participation: float | None = _DEFAULTS.participation
    strict_timestamps: bool = _DEFAULTS.strict_timestamps
    fill_on_submit: bool = False
    slippage: SlippageModel = field(default_factory=NoSlippage)
    stock_fees: FeeModel = field(default_factory=ZeroFee)
    crypto_fees: FeeModel = field(default_factory=ZeroFee)
    multiplier: int = _DEFAULTS.multiplier
    shorting_enabled: bool = _DEFAULTS.shorting_enabled
    extended_hours: bool = _DEFAULTS.extended_hours
    pdt: bool = _DEFAULTS.pdt
    pdt_equity: Decimal = _DEFAULTS.pdt_equity
    pdt_day_trades: int = _DEFAULTS.pdt_day_trades
    pdt_window: int = _DEFAULTS.pdt_window

    @classmethod
    def from_settings(cls, settings: ExchangeSettings, **given: Any) -> ExchangeConfig:
        """The config of the ``[exchange]`` section; ``given`` sets the fields it has no key
        for (``fill_on_submit``, ``slippage``, fees) or overrides one."""
        return cls(**{**settings.model_dump(), **given})

    def __post_init__(self) -> None:
        if self.market_price not in ("open", "close"):
            raise ValueError(f"market_price must be 'open' or 'close', got {self.market_price!r}")
        if self.limit_fill not in ("touch", "through"):
            raise ValueError(f"limit_fill must be 'touch' or 'through', got {self.limit_fill!r}")
        if self.participation is not None and not 0.0 < self.participation <= 1.0:
            raise ValueError(f"participation must be in (0, 1], got {self.participation!r}")
        if self.multiplier not in (1, 2, 4):
            raise ValueError(f"multiplier must be 1, 2 or 4, got {self.multiplier!r}")
        if self.pdt_day_trades < 1 or self.pdt_window < 1:
            raise ValueError("pdt_day_trades and pdt_window must be >= 1")
