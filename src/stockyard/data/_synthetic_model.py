"""The random model behind ``SyntheticSource``: daily levels and minute paths, in numpy."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np

__all__ = ["DAY_NS", "MINUTE_NS", "Model", "anchor_day", "stable_seed"]

DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9
_ANCHOR = date(2000, 1, 1)
_REGIME_VOL = np.array([1.0, 2.2])  # calm, turbulent
_STAY = np.array([0.985, 0.94])  # chance a regime persists from one day to the next
_JUMP_Z = 2.878  # |z| beyond this has a two-sided chance of 0.004: a jump about once a year
_MARKET_CACHE = 2048  # days of market minute draws kept (a few MB)


def anchor_day() -> int:
    """Days since the epoch of 2000-01-01: the first day the model generates."""
    return (_ANCHOR - date(1970, 1, 1)).days


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts' text: stable across runs (unlike ``hash``)."""
    text = "|".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _rng(*parts: object) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(stable_seed(*parts)))


@dataclass(frozen=True, slots=True)
class _Daily:
    log_open: np.ndarray  # per day since the anchor
    intraday: np.ndarray  # open-to-close log return
    sigma: np.ndarray  # intraday volatility of the day
    volume: np.ndarray  # the day's total volume
    trade_size: float
    beta: float


class Model:
    """Holds the seed and caches; ``minutes`` makes the bars of given days for a symbol."""

    def __init__(self, *, seed: int, volatility: float, correlation: float) -> None:
        self.seed = seed
        self._volatility = volatility
        self._correlation = correlation
        self._daily: dict[tuple[str, int], _Daily] = {}
        self._regimes: dict[tuple[bool, int], np.ndarray] = {}
        self._market: OrderedDict[tuple[bool, int, int], np.ndarray] = OrderedDict()

    def minutes(
        self, symbol: str, days: np.ndarray, counts: np.ndarray, *, crypto: bool
    ) -> list[np.ndarray]:
        """open, high, low, close, volume, trade_count, vwap for each minute of ``days``.

        Work is done on a (day, minute-of-day) grid of fixed width so that each day's
        numbers come out bit-identical whatever other days are in the request.
        """
        last_year = int(days[-1].astype("datetime64[D]").astype("datetime64[Y]").astype(int))
        daily = self._daily_for(symbol, last_year + 1970, crypto=crypto)
        index = days - anchor_day()
        width = 1440 if crypto else 390
        valid = np.arange(width)[None, :] < counts[:, None]
        draws = np.zeros((4, len(days), width))
        market = np.zeros((len(days), width))
        for row, (day, count) in enumerate(zip(days.tolist(), counts.tolist(), strict=True)):
            draws[:, row, :count] = _rng(self.seed, symbol, "minutes", day).standard_normal(
                (4, count)
            )
            market[row, :count] = self._market_minutes(crypto, day, count)
        t = np.arange(width)[None, :]
        span = np.maximum(counts - 1, 1)[:, None]
        shape = np.where(valid, 1.0 + (0.3 if crypto else 2.0) * (2.0 * t / span - 1.0) ** 2, 0.0)
        weight = shape / shape.sum(axis=1, keepdims=True)  # U-shaped share of the day
        beta = daily.beta
        sigma = daily.sigma[index][:, None]
        shock = beta * market + np.sqrt(1.0 - beta * beta) * draws[0]
        walk = np.cumsum(np.sqrt(weight) * sigma * shock, axis=1)
        clock = np.cumsum(weight, axis=1)
        # Brownian bridge: the day's path must end at its daily open-to-close return.
        last = walk[np.arange(len(days)), counts - 1][:, None]
        path = walk - clock * (last - daily.intraday[index][:, None])
        before = np.zeros_like(path)
        before[:, 1:] = path[:, :-1]
        base = daily.log_open[index][:, None]
        open_ = np.exp(base + before)
        close = np.exp(base + path)
        wiggle = 0.35 * np.sqrt(weight) * sigma
        high = np.maximum(open_, close) * np.exp(np.abs(draws[1]) * wiggle)
        low = np.minimum(open_, close) * np.exp(-np.abs(draws[2]) * wiggle)
        volume = daily.volume[index][:, None] * weight
        volume = volume * np.exp(0.4 * draws[3] - 0.08) * (0.4 + 0.75 * np.abs(shock))
        open_, high, low, close, volume = (a[valid] for a in (open_, high, low, close, volume))
        if crypto:
            volume = np.round(volume, 4)
        else:
            open_, high, low, close = (_cents(a) for a in (open_, high, low, close))
            volume = np.maximum(np.rint(volume), 1.0)
        trades = np.maximum(np.rint(volume / daily.trade_size), 1).astype(np.int64)
        vwap = (high + low + close) / 3.0
        return [open_, high, low, close, volume, trades, vwap]

    def _daily_for(self, symbol: str, last_year: int, *, crypto: bool) -> _Daily:
        key = (symbol, last_year)
        daily = self._daily.get(key)
        if daily is None:
            daily = self._make_daily(symbol, last_year, crypto=crypto)
            self._daily = {k: v for k, v in self._daily.items() if k[0] != symbol}
            self._daily[key] = daily
        return daily

    def _make_daily(self, symbol: str, last_year: int, *, crypto: bool) -> _Daily:
        profile = _rng(self.seed, symbol, "profile").random(5)
        if crypto:
            price = np.exp(np.log(1.0) + profile[0] * np.log(50_000.0))
            annual = (0.5 + 0.4 * profile[1]) * self._volatility
            volume, trade_size = np.exp(np.log(200.0) + profile[3] * np.log(500.0)), 0.05
        else:
            price = np.exp(np.log(20.0) + profile[0] * np.log(25.0))
            annual = (0.15 + 0.30 * profile[1]) * self._volatility
            volume = np.exp(np.log(3e5) + profile[3] * np.log(150.0))
            trade_size = 60.0 + 140.0 * profile[4]
        beta = min(self._correlation * (0.7 + 0.6 * profile[2]), 0.95)
        years = range(_ANCHOR.year, last_year + 1)
        own = np.concatenate(
            [_rng(self.seed, symbol, "daily", y).standard_normal((5, _days_in(y))) for y in years],
            axis=1,
        )
        common = np.concatenate(
            [_rng(self.seed, crypto, "market", y).standard_normal((2, _days_in(y))) for y in years],
            axis=1,
        )
        regime = self._regime(crypto, last_year)
        sigma = annual / np.sqrt(365.0) * _REGIME_VOL[regime]
        idio = np.sqrt(1.0 - beta * beta)
        jumps = np.where(np.abs(own[2]) > _JUMP_Z, own[3] * 4.0 * sigma, 0.0)
        share = 1.0 if crypto else 0.75  # of a day's variance that falls in the session
        intraday = np.sqrt(share) * sigma * (beta * common[0] + idio * own[0])
        gap = np.sqrt(1.0 - share) * sigma * (beta * common[1] + idio * own[1]) + jumps
        if crypto:
            intraday = intraday + jumps
            gap = np.zeros_like(gap)
        log_close = _revert(np.log(price), gap + intraday)
        if crypto:  # crypto has no overnight gap: the pull to the mean happens in the day
            intraday = intraday + np.diff(log_close, prepend=np.log(price)) - (gap + intraday)
        return _Daily(
            log_open=log_close - intraday,
            intraday=intraday,
            sigma=np.sqrt(share) * sigma,
            volume=volume * np.exp(0.35 * own[4]) * (1.0 + 0.8 * regime),
            trade_size=float(trade_size),
            beta=beta,
        )

    def _regime(self, crypto: bool, last_year: int) -> np.ndarray:
        key = (crypto, last_year)
        if key not in self._regimes:
            years = range(_ANCHOR.year, last_year + 1)
            draws = np.concatenate(
                [_rng(self.seed, crypto, "regime", y).random(_days_in(y)) for y in years]
            )
            states = np.empty(len(draws), dtype=np.int64)
            state = 0
            for i, u in enumerate(draws.tolist()):  # a Markov chain is sequential by nature
                state = state if u < _STAY[state] else 1 - state
                states[i] = state
            self._regimes[key] = states
        return self._regimes[key]

    def _market_minutes(self, crypto: bool, day: int, count: int) -> np.ndarray:
        key = (crypto, day, count)
        draws = self._market.get(key)
        if draws is None:
            draws = _rng(self.seed, crypto, "market-minutes", day).standard_normal(count)
            self._market[key] = draws
            if len(self._market) > _MARKET_CACHE:
                self._market.popitem(last=False)
        return draws


def _revert(level: float, steps: np.ndarray) -> np.ndarray:
    """Log prices from daily steps with a weak pull back to ``level`` (half-life 2 years),
    so decades of random walk stay in a believable range."""
    pull = np.log(2.0) / 730.0
    out = np.empty(len(steps))
    x = level
    for i, step in enumerate(steps.tolist()):  # sequential: each day starts from the last
        x += step + pull * (level - x)
        out[i] = x
    return out


def _cents(prices: np.ndarray) -> np.ndarray:
    # Monotone rounding keeps low <= open, close <= high true after it.
    return np.where(prices >= 1.0, np.round(prices, 2), np.round(prices, 4))


def _days_in(year: int) -> int:
    return 366 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 365
