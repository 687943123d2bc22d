"""The sample data set that ``make up``, the sandbox and the examples use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from stockyard.core import Timeframe
from stockyard.data._parquet import ParquetStore
from stockyard.data._provenance import BarOrigin, with_origin
from stockyard.data._synthetic import SyntheticSource
from stockyard.data._synthetic_signal import plant_signal

__all__ = ["SAMPLE_END", "SAMPLE_SEED", "SAMPLE_START", "SAMPLE_SYMBOLS", "write_synthetic"]

SAMPLE_SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "BTC/USD")
SAMPLE_START = date(2025, 4, 1)
SAMPLE_END = date(2025, 6, 30)  # inclusive; fixed so every sample set is the same
SAMPLE_SEED = 42


def write_synthetic(
    store: ParquetStore,
    *,
    symbols: Sequence[str] = SAMPLE_SYMBOLS,
    start: datetime | None = None,
    end: datetime | None = None,
    timeframe: Timeframe = Timeframe.MINUTE,
    seed: int = SAMPLE_SEED,
    on_symbol: Callable[[str, int], None] | None = None,
    planted_signal: float = 0.0,
) -> dict[str, int]:
    """Generate seeded synthetic bars into ``store``; defaults make the sample set.

    ``end`` is exclusive. Returns rows written per symbol; ``on_symbol(symbol, rows)`` is
    called after each one (progress bars). ``planted_signal`` > 0 adds a learnable drift
    of that strength (``plant_signal``; for checking ML bots).
    """
    first = start or datetime.combine(SAMPLE_START, time(), tzinfo=UTC)
    last = end or datetime.combine(SAMPLE_END + timedelta(days=1), time(), tzinfo=UTC)
    if last <= first:
        raise ValueError("end must be after start")
    source = SyntheticSource(seed=seed)
    written: dict[str, int] = {}
    for symbol in symbols:
        table = source.get_bars([symbol], timeframe, first, last).get(symbol)
        if table is not None and planted_signal > 0.0:
            table = plant_signal(table, symbol=symbol, seed=seed, strength=planted_signal)
            detail = f"seed {seed}, planted signal {planted_signal:g}"
            table = with_origin(table, BarOrigin("synthetic", "none", detail))
        rows = store.write(symbol, timeframe, table).rows_written if table is not None else 0
        written[symbol] = rows
        if on_symbol is not None:
            on_symbol(symbol, rows)
    return written
