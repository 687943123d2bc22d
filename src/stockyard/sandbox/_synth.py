"""Quotes and trades made from bars, for sources that have only bars. Deterministic.

Each bar becomes four trades that walk open → low → high → close (open → high → low → close
when the bar closed down) at a quarter, half and three quarters of the bar, each with a
small jitter, and a quote just before each trade centred on its price. The bar's volume is
split between the four trades. Every draw comes from a generator seeded by
(seed, symbol, bar time), so the same bar always gives the same ticks.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import timedelta

from stockyard.core import Bar, Quote, Trade

__all__ = ["SynthesisConfig", "Tick", "synthesise"]

_TICKS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthesisConfig:
    """How ticks are made: the seed, the spread (basis points of price) and quote sizes."""

    seed: int = 0
    spread_bps: float = 2.0


@dataclass(frozen=True, slots=True)
class Tick:
    """A synthesised quote or trade, with the trade id the stream and REST API show."""

    value: Quote | Trade
    trade_id: int = 0


def _rng(seed: int, symbol: str, stamp_ns: int) -> random.Random:
    digest = hashlib.blake2b(f"{seed}|{symbol}|{stamp_ns}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _path(bar: Bar) -> tuple[float, float, float, float]:
    if bar.close >= bar.open:
        return bar.open, bar.low, bar.high, bar.close
    return bar.open, bar.high, bar.low, bar.close


def _split(volume: float, rng: random.Random, *, whole: bool) -> list[float]:
    weights = [rng.uniform(0.5, 1.5) for _ in range(_TICKS)]
    total = sum(weights)
    if not whole:
        sizes = [round(volume * w / total, 8) for w in weights]
        sizes[-1] = max(round(volume - sum(sizes[:-1]), 8), 0.0)
        return sizes
    units = int(volume)
    sizes_i = [math.floor(units * w / total) for w in weights]
    sizes_i[-1] += units - sum(sizes_i)
    return [float(s) for s in sizes_i]


def synthesise(bar: Bar, *, config: SynthesisConfig, stamp_ns: int) -> list[Tick]:
    """The quotes and trades inside ``bar`` in time order (``stamp_ns``: the bar's open)."""
    crypto = "/" in bar.symbol
    rng = _rng(config.seed, bar.symbol, stamp_ns)
    span = bar.timeframe.delta
    sizes = _split(bar.volume, rng, whole=not crypto)
    ticks: list[Tick] = []
    base_id = stamp_ns // 1_000_000 * 8
    for k, price in enumerate(_path(bar)):
        fraction = (k + rng.uniform(0.05, 0.2)) / _TICKS
        at = bar.timestamp + timedelta(microseconds=int(span.total_seconds() * 1e6 * fraction))
        half = price * config.spread_bps / 20_000
        if crypto:
            bid, ask = max(price - half, 0.0), price + half
            bid_size, ask_size = round(rng.uniform(0.05, 2.0), 4), round(rng.uniform(0.05, 2.0), 4)
        else:
            half = max(half, 0.005)
            bid = max(math.floor((price - half) * 100) / 100, 0.0)
            ask = math.ceil((price + half) * 100) / 100
            bid_size, ask_size = float(rng.randint(1, 10) * 100), float(rng.randint(1, 10) * 100)
        ticks.append(Tick(Quote(bar.symbol, at, bid, bid_size, ask, ask_size)))
        if sizes[k] > 0:
            trade_id = base_id + k
            ticks.append(Tick(Trade(bar.symbol, at, price, sizes[k], trade_id), trade_id))
    return ticks
