"""Training from stored bars (``stockyard ml train``), by the bots' own feature code.

The bars of all symbols are replayed in time order (symbols in the order given within one
timestamp, as the backtester delivers them) through the same :class:`SymbolFeatures` a bot
keeps, so a model trained here sees exactly the rows the bot will compute live.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from stockyard.strategy._bars import BarRow
from stockyard.strategy.ml._features import SymbolFeatures
from stockyard.strategy.ml._training import Block, TrainResult, TrainSpec, train_window

__all__ = ["Columns", "blocks_from_columns", "train_from_columns"]

Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""One symbol's bars as arrays: ts (UTC ns), open, high, low, close, volume."""


def _features(symbols: Sequence[str], reference: str | None) -> dict[str, SymbolFeatures]:
    ref = SymbolFeatures(reference) if reference is not None and reference in symbols else None
    made: dict[str, SymbolFeatures] = {}
    for symbol in symbols:
        one = ref if ref is not None and symbol == reference else SymbolFeatures(symbol)
        one.set_reference(ref)
        made[symbol] = one
    return made


def blocks_from_columns(
    columns: Mapping[str, Columns], *, reference: str | None = "SPY"
) -> tuple[list[Block], tuple[str, ...]]:
    """Feature blocks of every symbol and the feature names (with cross-asset features
    against ``reference`` when it is among the symbols)."""
    symbols = list(columns)
    if not symbols:
        raise ValueError("no bars to train on")
    features = _features(symbols, reference)
    names = features[symbols[0]].names
    rows: dict[str, list[np.ndarray | None]] = {s: [] for s in symbols}
    streams = [_stream(columns[s][0], order) for order, s in enumerate(symbols)]
    for _ts, order, i in heapq.merge(*streams):
        symbol = symbols[order]
        ts, open_, high, low, close, volume = columns[symbol]
        bar = BarRow(
            symbol, int(ts[i]), float(open_[i]), float(high[i]), float(low[i]),
            float(close[i]), float(volume[i]),
        )  # fmt: skip
        rows[symbol].append(features[symbol].update(bar))
    nan_row = np.full(len(names), np.nan)
    blocks = []
    for symbol in symbols:
        ts, _open, high, low, close, _volume = columns[symbol]
        x = np.vstack([nan_row if r is None else r for r in rows[symbol]])
        blocks.append(
            Block(
                symbol=symbol,
                ts=np.asarray(ts, dtype=np.int64),
                close=np.asarray(close, dtype=np.float64),
                high=np.asarray(high, dtype=np.float64),
                low=np.asarray(low, dtype=np.float64),
                x=x,
            )
        )
    return blocks, names


def _stream(ts: np.ndarray, order: int) -> Iterator[tuple[int, int, int]]:
    """(time, symbol order, row) of one symbol's bars, for merging in time order."""
    for i, t in enumerate(ts.tolist()):
        yield t, order, i


def train_from_columns(
    columns: Mapping[str, Columns], spec: TrainSpec, *, reference: str | None = "SPY"
) -> TrainResult:
    """Train ``spec`` on all of the given bars: the last ``spec.test`` rows per symbol are
    held out (purged and embargoed), up to ``spec.train`` rows before them are fitted."""
    blocks, names = blocks_from_columns(columns, reference=reference)
    return train_window(blocks, names, spec)[0]
