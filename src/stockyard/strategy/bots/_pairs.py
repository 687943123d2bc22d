"""``pairs``: trade the spread of two symbols when it strays from its rolling mean."""

from __future__ import annotations

import math
from decimal import Decimal

from stockyard.strategy._bars import BarRow
from stockyard.strategy._base import Strategy
from stockyard.strategy._params import ParameterError, param
from stockyard.strategy.indicators import RollingOLS, RollingStd

__all__ = ["Pairs"]


class Pairs(Strategy):
    """``symbols = (y, x)``. On each timestamp where both have a bar: the hedge ratio ``b``
    is ``hedge_ratio``, or (``hedge_window > 0``) the rolling least-squares slope of y on x
    over that many bars; ``spread = y - b * x``; ``z`` is its z-score over ``window`` bars
    (sample std). Flat: ``z < -entry_z`` buys the spread (buy ``qty`` y, sell
    ``round(b * qty)`` x); ``z > entry_z`` sells it (the reverse). Long spread: close both
    legs once ``z > -exit_z``; short spread: once ``z < exit_z``.
    """

    name = "pairs"
    window: int = param(30, ge=2, doc="bars in the spread's mean and std")
    hedge_window: int = param(0, ge=0, doc="bars in the rolling OLS; 0: fixed hedge_ratio")
    hedge_ratio: float = param(1.0, gt=0, doc="fixed hedge ratio when hedge_window is 0")
    entry_z: float = param(2.0, gt=0, doc="enter beyond this many standard deviations")
    exit_z: float = param(0.5, ge=0, doc="exit once back within this many")
    qty: int = param(
        100, ge=1, changeable=True, doc="shares of y per trade; x is sized by the ratio"
    )

    def validate(self) -> None:
        if len(self.symbols) != 2:
            raise ParameterError(f"pairs needs exactly two symbols (y, x), got {self.symbols}")
        if self.hedge_window == 1:
            raise ParameterError("pairs needs hedge_window 0 (fixed) or >= 2")
        if self.exit_z >= self.entry_z:
            raise ParameterError(
                f"pairs needs exit_z < entry_z, got exit_z={self.exit_z} entry_z={self.entry_z}"
            )

    @property
    def warmup_bars(self) -> int:
        """The rolling fit (if any), then a full window of spreads."""
        return self.hedge_window + self.window

    def on_start(self) -> None:
        self._y, self._x = self.symbols
        self._ols = RollingOLS(self.hedge_window) if self.hedge_window else None
        self._band = RollingStd(self.window)
        self._last: dict[str, BarRow] = {}

    def on_bar(self, bar: BarRow) -> None:
        self._last[bar.symbol] = bar
        y_bar, x_bar = self._last.get(self._y), self._last.get(self._x)
        if y_bar is None or x_bar is None or y_bar.ts != x_bar.ts:
            return  # wait for the other leg of this timestamp
        y, x = y_bar.close, x_bar.close
        ratio = self.hedge_ratio if self._ols is None else self._ols.update(x, y)
        if math.isnan(ratio):  # the rolling fit is not ready
            return
        std = self._band.update(y - ratio * x)
        if not std > 0.0:
            return
        z = (y - ratio * x - self._band.mean) / std
        if self.open_orders():
            return
        held = self.position(self._y)
        if (held > 0 and z > -self.exit_z) or (held < 0 and z < self.exit_z):
            self.close_all()
        elif held == 0 and abs(z) > self.entry_z:
            hedge = Decimal(round(self.qty * abs(ratio)))
            if hedge == 0:
                return
            if z < 0:  # spread cheap: buy y, sell x
                self.buy(self._y, self.qty)
                self.sell(self._x, hedge)
            else:
                self.sell(self._y, self.qty)
                self.buy(self._x, hedge)
