"""``momentum``: buy a breakout above the recent high, with an ATR stop."""

from __future__ import annotations

from stockyard.strategy._bars import BarRow
from stockyard.strategy._base import Strategy
from stockyard.strategy._params import param
from stockyard.strategy.indicators import ATR, RollingMax, RollingMin

__all__ = ["Momentum"]


class _Track:
    __slots__ = ("atr", "high", "low", "stop")

    def __init__(self, entry_window: int, exit_window: int, atr_period: int) -> None:
        self.high = RollingMax(entry_window)
        self.low = RollingMin(exit_window)
        self.atr = ATR(atr_period)
        self.stop = float("nan")


class Momentum(Strategy):
    """Long only. Levels are of the bars *before* bar ``t``: ``hh`` = highest high of the last
    ``entry_window`` bars, ``ll`` = lowest low of the last ``exit_window`` bars; ``atr`` is
    Wilder's ATR including bar ``t``.

    Flat: buy ``qty`` when ``close > hh``; the stop is ``close - atr_k * atr`` of that bar.
    Long: with ``trailing``, the stop rises to ``close - atr_k * atr`` when that is higher;
    close the position when ``close < stop`` or ``close < ll``. Stops are checked on closes.
    """

    name = "momentum"
    entry_window: int = param(20, ge=1, doc="bars in the breakout high")
    exit_window: int = param(10, ge=1, doc="bars in the breakdown low")
    atr_period: int = param(14, ge=1, doc="bars in Wilder's ATR")
    atr_k: float = param(2.0, gt=0, doc="stop distance in ATRs")
    trailing: bool = param(False, doc="raise the stop as the price rises")
    qty: int = param(100, ge=1, changeable=True, doc="shares per trade")

    @property
    def warmup_bars(self) -> int:
        """The breakout levels of the bars before this one, and a ready ATR."""
        return max(self.entry_window, self.exit_window, self.atr_period) + 1

    def on_start(self) -> None:
        self._tracks = {
            s: _Track(self.entry_window, self.exit_window, self.atr_period) for s in self.symbols
        }

    def on_bar(self, bar: BarRow) -> None:
        track = self._tracks[bar.symbol]
        breakout = track.high.value  # levels of the bars before this one
        breakdown = track.low.value
        atr = track.atr.update(bar.high, bar.low, bar.close)
        track.high.update(bar.high)
        track.low.update(bar.low)
        symbol, close = bar.symbol, bar.close
        if self.open_orders(symbol):
            return
        if self.position(symbol) > 0:
            if self.trailing and close - self.atr_k * atr > track.stop:
                track.stop = close - self.atr_k * atr
            if close < track.stop or close < breakdown:
                self.close_position(symbol)
        elif close > breakout and track.atr.ready:
            track.stop = close - self.atr_k * atr
            self.buy(symbol, self.qty)
