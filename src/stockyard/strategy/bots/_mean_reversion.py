"""``mean_reversion``: fade moves of the close away from its rolling mean (z-score bands)."""

from __future__ import annotations

from stockyard.strategy._bars import BarRow
from stockyard.strategy._base import Strategy
from stockyard.strategy._params import ParameterError, param
from stockyard.strategy.indicators import RollingStd

__all__ = ["MeanReversion"]


class MeanReversion(Strategy):
    """``z = (close - mean) / std`` over the last ``window`` closes (bar ``t`` included,
    sample std). Flat: buy ``qty`` when ``z < -entry_z``; sell ``qty`` short when
    ``z > entry_z`` if ``allow_short``. Long: close once ``z > -exit_z``; short: close once
    ``z < exit_z`` (back inside the exit band, or past it). No signal while std is 0.
    """

    name = "mean_reversion"
    window: int = param(20, ge=2, doc="closes in the rolling mean and std")
    entry_z: float = param(2.0, gt=0, doc="enter beyond this many standard deviations")
    exit_z: float = param(0.5, ge=0, doc="exit once back within this many")
    qty: int = param(100, ge=1, changeable=True, doc="shares per trade")
    allow_short: bool = param(False, doc="also sell short above +entry_z")

    def validate(self) -> None:
        if self.exit_z >= self.entry_z:
            raise ParameterError(
                f"mean_reversion needs exit_z < entry_z, got exit_z={self.exit_z} "
                f"entry_z={self.entry_z}"
            )

    @property
    def warmup_bars(self) -> int:
        """A full window of closes."""
        return self.window

    def on_start(self) -> None:
        self._bands = {s: RollingStd(self.window) for s in self.symbols}

    def on_bar(self, bar: BarRow) -> None:
        band = self._bands[bar.symbol]
        std = band.update(bar.close)
        if not std > 0.0:  # NaN while warming up, or a flat window
            return
        z = (bar.close - band.mean) / std
        symbol = bar.symbol
        held = self.position(symbol)
        if self.open_orders(symbol):
            return
        if held > 0:
            if z > -self.exit_z:
                self.close_position(symbol)
        elif held < 0:
            if z < self.exit_z:
                self.close_position(symbol)
        elif z < -self.entry_z:
            self.buy(symbol, self.qty)
        elif z > self.entry_z and self.allow_short:
            self.sell(symbol, self.qty)
