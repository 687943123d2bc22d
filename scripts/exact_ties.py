"""Where a running-sum moving average invents a cross: every bar of a stored series at which
the plain float recurrence (``sum += x - oldest``) gives ``fast - slow`` a sign that exact
arithmetic on the decimal prices does not, with both means as exact fractions.

    python scripts/exact_ties.py AAPL NVDA SPY --fast 10 --slow 30 \
        --start 2025-04-01 --end 2025-06-30

Reads the bars from the local store (``STOCKYARD_HOME``). Each line is a bar where the old
rule saw ``fast > slow`` or ``fast < slow`` while the decimal means are equal (or the other
way round); ``sma_cross`` now treats such a bar as a tie, so it neither enters nor exits there.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from fractions import Fraction

from stockyard.config import load_settings
from stockyard.core import Timeframe
from stockyard.data import ParquetStore
from stockyard.strategy.indicators import RollingMean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("symbols", nargs="+")
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=30)
    parser.add_argument("--start", default="2025-04-01")
    parser.add_argument("--end", default="2025-06-30")
    args = parser.parse_args()
    settings = load_settings()
    root = settings.data.dir if settings.data.dir is not None else settings.home / "data"
    store = ParquetStore(root)
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC)
    total = 0
    for symbol in args.symbols:
        table = store.get_bars([symbol], Timeframe.MINUTE, start, end)[symbol]
        closes = table.column("close").to_pylist()
        stamps = table.column("timestamp").to_pylist()
        fast_mean, slow_mean = RollingMean(args.fast), RollingMean(args.slow)
        for i, close in enumerate(closes):
            drifted = fast_mean.update(close) - slow_mean.update(close)
            if i + 1 < args.slow:
                continue
            window = [Fraction(repr(c)) for c in closes[i + 1 - args.slow : i + 1]]
            fast = sum(window[-args.fast :]) / args.fast
            slow = sum(window) / args.slow
            if (drifted > 0) != (fast > slow) or (drifted < 0) != (fast < slow):
                total += 1
                print(
                    f"{symbol} {stamps[i].isoformat()} float fast-slow={drifted:.3e} "
                    f"exact fast={fast} slow={slow} (difference {fast - slow})"
                )
    print(f"{total} bars where the float recurrence's sign is not the exact one")


if __name__ == "__main__":
    main()
