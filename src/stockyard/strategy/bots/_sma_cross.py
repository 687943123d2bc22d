"""``sma_cross``: long when the fast simple moving average crosses above the slow one."""

from __future__ import annotations

import math

from stockyard.strategy._bars import BarRow
from stockyard.strategy._base import Strategy
from stockyard.strategy._params import ParameterError, param
from stockyard.strategy.indicators import MovingAveragePair

__all__ = ["SmaCross"]


class _Lines:
    __slots__ = ("diff", "pair")

    def __init__(self, fast: int, slow: int) -> None:
        self.pair = MovingAveragePair(fast, slow)
        self.diff = math.nan  # fast - slow at the previous bar


class SmaCross(Strategy):
    """Long only. On the bar where ``fast[t-1] <= slow[t-1] and fast[t] > slow[t]`` buy ``qty``
    (when flat with no open order); on the bar where ``fast[t-1] >= slow[t-1] and
    fast[t] < slow[t]`` close the position. SMAs include bar ``t``'s close; nothing happens
    until both are defined at ``t-1`` and ``t`` (bar ``slow + 1`` onwards).
    """

    name = "sma_cross"
    fast: int = param(10, ge=1, doc="bars in the fast mean")
    slow: int = param(30, ge=2, doc="bars in the slow mean")
    qty: int = param(100, ge=1, changeable=True, doc="shares bought on a cross up")

    def validate(self) -> None:
        if self.fast >= self.slow:
            raise ParameterError(
                f"sma_cross needs fast < slow, got fast={self.fast} slow={self.slow}"
            )

    @property
    def warmup_bars(self) -> int:
        """Both means defined at the previous bar and this one: ``slow + 1`` bars."""
        return self.slow + 1

    def on_start(self) -> None:
        self._lines = {s: _Lines(self.fast, self.slow) for s in self.symbols}

    def on_bar(self, bar: BarRow) -> None:
        lines = self._lines[bar.symbol]
        diff = lines.pair.update(bar.close)  # fast - slow; its sign is fast vs slow, exactly
        prev = lines.diff
        lines.diff = diff
        # Undefined means are NaN, and every comparison with NaN is false: no signal.
        if diff > 0.0:
            if prev <= 0.0:
                symbol = bar.symbol
                if not self.position(symbol) and not self.open_orders(symbol):
                    self.buy(symbol, self.qty)
        elif diff < 0.0 and prev >= 0.0:
            self.close_position(bar.symbol)
