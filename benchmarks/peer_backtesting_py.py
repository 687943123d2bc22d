"""The peer's side of ``vs_backtesting_py.py``: backtesting.py on the same CSV and rule.

Run by ``benchmarks/.venv/bin/python`` (the venv that ``vs_backtesting_py.py`` makes, with
backtesting.py in it); prints one JSON object (trades and final equity). backtesting.py is
AGPL-licensed: it is installed only into that venv and never imported by ``stockyard``.

The rule is ``sma_cross``'s: buy 100 shares on the bar where ``fast - slow`` turns from
``<= 0`` to ``> 0`` (when flat), close on the bar where it turns from ``>= 0`` to ``< 0``;
market orders fill at the next bar's open, no fees. The means' difference is signed
exactly: prices have 4 decimals, so their sums are summed in integer ticks.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy

FAST, SLOW, QTY = 10, 30, 100


def exact_sign(close: np.ndarray) -> np.ndarray:
    """The sign of ``mean(fast) - mean(slow)`` at each bar (NaN until both are defined)."""
    ticks = pd.Series(np.rint(np.asarray(close) * 10_000))
    fast = ticks.rolling(FAST).sum()
    slow = ticks.rolling(SLOW).sum()
    return np.sign((SLOW * fast - FAST * slow).to_numpy())


class SmaCross(Strategy):
    def init(self) -> None:
        self.sign = self.I(exact_sign, self.data.Close)

    def next(self) -> None:
        prev, now = self.sign[-2], self.sign[-1]
        if now > 0 and prev <= 0:
            if not self.position and not self.orders:
                self.buy(size=QTY)
        elif now < 0 and prev >= 0 and self.position:
            self.position.close()


def main() -> None:
    bars = pd.read_csv(sys.argv[1], index_col="timestamp", parse_dates=["timestamp"])
    bars.columns = [name.capitalize() for name in bars.columns]
    test = Backtest(bars, SmaCross, cash=100_000, commission=0.0, trade_on_close=False)
    stats = test.run()
    trades = stats["_trades"]
    equity = stats["_equity_curve"]["Equity"]
    print(
        json.dumps(
            {
                "final_equity": float(equity.iloc[-1]),
                "trades": [
                    [
                        t.EntryTime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        round(float(t.EntryPrice), 4),
                        t.ExitTime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        round(float(t.ExitPrice), 4),
                        int(t.Size),
                    ]
                    for t in trades.itertuples()
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
