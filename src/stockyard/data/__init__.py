"""Market data: historical sources (synthetic, Parquet, S3/MinIO, Alpaca), cache, import."""

import importlib
from typing import TYPE_CHECKING

from stockyard.data._alpaca import AlpacaSource, bars_from_alpaca_json
from stockyard.data._cache import BarCache, CachedSource, CacheStats
from stockyard.data._calendar import CalendarName, Sessions, nyse_sessions
from stockyard.data._chain import (
    DEFAULT_GAP_TOLERANCE,
    ChainResult,
    SourceChain,
    largest_gap,
    make_chain,
)
from stockyard.data._checks import check_data_store, check_s3, data_checks
from stockyard.data._gaps import Gap, GapReport, find_gaps
from stockyard.data._layout import symbol_from_dir, symbol_safe
from stockyard.data._market_calendar import MarketCalendar, Phase
from stockyard.data._parquet import CatalogEntry, MixedBarsError, ParquetStore, WriteResult
from stockyard.data._provenance import (
    ADJUSTMENTS,
    BarOrigin,
    Provenance,
    describe_all,
    origin_of,
    with_origin,
)
from stockyard.data._resample import resample
from stockyard.data._s3 import make_s3_store, s3_filesystem, s3_root
from stockyard.data._sample import (
    SAMPLE_END,
    SAMPLE_SEED,
    SAMPLE_START,
    SAMPLE_SYMBOLS,
    write_synthetic,
)
from stockyard.data._source import BarTables, HistoricalSource
from stockyard.data._sync import SyncedFile, SyncReport, sync_stores
from stockyard.data._synthetic import SyntheticSource
from stockyard.data._synthetic_signal import PLANTED_STRENGTH, plant_signal

if TYPE_CHECKING:
    from stockyard.data._import import DataImportError, ImportResult, import_file

# The file importer reads CSV with pandas (~0.3 s to import): loaded on first use (PEP 562),
# so a process that never imports a file (the sandbox, a node) starts without it.
_LAZY = dict.fromkeys(("DataImportError", "ImportResult", "import_file"), "_import")

__all__ = [
    "ADJUSTMENTS",
    "DEFAULT_GAP_TOLERANCE",
    "PLANTED_STRENGTH",
    "SAMPLE_END",
    "SAMPLE_SEED",
    "SAMPLE_START",
    "SAMPLE_SYMBOLS",
    "AlpacaSource",
    "BarCache",
    "BarOrigin",
    "BarTables",
    "CacheStats",
    "CachedSource",
    "CalendarName",
    "CatalogEntry",
    "ChainResult",
    "DataImportError",
    "Gap",
    "GapReport",
    "HistoricalSource",
    "ImportResult",
    "MarketCalendar",
    "MixedBarsError",
    "ParquetStore",
    "Phase",
    "Provenance",
    "Sessions",
    "SourceChain",
    "SyncReport",
    "SyncedFile",
    "SyntheticSource",
    "WriteResult",
    "bars_from_alpaca_json",
    "check_data_store",
    "check_s3",
    "data_checks",
    "describe_all",
    "find_gaps",
    "import_file",
    "largest_gap",
    "make_chain",
    "make_s3_store",
    "nyse_sessions",
    "origin_of",
    "plant_signal",
    "resample",
    "s3_filesystem",
    "s3_root",
    "symbol_from_dir",
    "symbol_safe",
    "sync_stores",
    "with_origin",
    "write_synthetic",
]


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` (see ``_LAZY``)."""
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
