"""Write the benchmark's bars: a seeded random walk of one-minute bars, prices in 4 decimals.

    python benchmarks/make_bars.py OUT.csv [--bars 500000] [--seed 7]

Columns ``timestamp,open,high,low,close,volume``; timestamps are naive ISO times (UTC),
one minute apart with no gaps; every bar is a valid OHLC bar. Needs numpy only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

_START = np.datetime64("2024-01-02T00:00:00", "s")


def write_bars(path: Path, *, bars: int = 500_000, seed: int = 7) -> None:
    """``bars`` one-minute bars of a seeded random walk (ticks of 0.0001) to ``path``."""
    rng = np.random.default_rng(seed)
    ticks = 1_000_000 + np.cumsum(rng.integers(-120, 121, size=bars + 1))  # close, 0.0001 units
    ticks = np.maximum(ticks, 10_000)
    close = ticks[1:]
    open_ = ticks[:-1] + rng.integers(-20, 21, size=bars)
    open_ = np.maximum(open_, 10_000)
    high = np.maximum(open_, close) + rng.integers(0, 60, size=bars)
    low = np.minimum(open_, close) - rng.integers(0, 60, size=bars)
    volume = rng.integers(100, 50_000, size=bars)
    stamps = (_START + np.arange(bars).astype("timedelta64[m]")).astype(str)
    text = np.char.replace(stamps, "T", " ")

    def price(values: np.ndarray) -> np.ndarray:
        whole, frac = np.divmod(values, 10_000)
        return np.char.add(np.char.add(whole.astype(str), "."), np.char.zfill(frac.astype(str), 4))

    columns = [text, price(open_), price(high), price(low), price(close), volume.astype(str)]
    lines = columns[0]
    for column in columns[1:]:
        lines = np.char.add(np.char.add(lines, ","), column)
    with path.open("w", encoding="ascii", newline="\n") as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        handle.write("\n".join(lines.tolist()))
        handle.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--bars", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_bars(args.out, bars=args.bars, seed=args.seed)


if __name__ == "__main__":
    main()
