"""Bars in Parquet files on any ``pyarrow.fs`` filesystem: the local store, and S3/MinIO."""

from __future__ import annotations

import contextlib
import itertools
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from stockyard.core import (
    BAR_SCHEMA,
    AssetClass,
    Timeframe,
    empty_bar_table,
    ns_to_datetime,
    to_ns,
    validate_bar_table,
)
from stockyard.data._layout import parse_partition_path, partition_path, symbol_dir
from stockyard.data._provenance import BarOrigin, origin_of, with_origin
from stockyard.data._source import BarTables
from stockyard.data._time import table_ns, year_start_ns, years_of
from stockyard.resilience import ValidationError

__all__ = ["CatalogEntry", "MixedBarsError", "ParquetStore", "WriteResult"]


class MixedBarsError(ValidationError):
    """A write would put bars of another kind (adjustment, synthetic or real) beside the
    stored ones of the same symbol and timeframe; nothing was written."""


Compression = Literal["lz4", "zstd", "snappy", "gzip", "brotli", "none"]
_ROW_GROUP = 32_768  # ~1.5 months of stock minutes: month reads touch one or two groups


@dataclass(frozen=True, slots=True)
class WriteResult:
    """``rows_written``: distinct rows from the input now stored; ``rows_deduplicated``:
    stored rows replaced by the input plus duplicates dropped within the input."""

    rows_written: int
    rows_deduplicated: int


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What a store holds for one symbol at one timeframe; ``end`` is the last bar's time."""

    symbol: str
    asset_class: AssetClass
    timeframe: Timeframe
    start: datetime
    end: datetime
    rows: int
    bytes: int


class ParquetStore:
    """A ``HistoricalSource`` over yearly Parquet partitions, with de-duplicating writes.

    Every file operation goes through ``filesystem`` (``pyarrow.fs``; local by default), so
    the same class serves a directory on disk and a bucket on S3/MinIO (``root`` is then
    ``bucket/prefix``). Writes of one store instance are serialised by a lock.
    ``atomic_rename`` says whether the filesystem's ``move`` is an atomic rename (default:
    only for ``LocalFileSystem``); with it, partitions are written to a temp file and
    renamed, without it they are written in place (one PUT on an object store).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        filesystem: pafs.FileSystem | None = None,
        name: str | None = None,
        compression: Compression = "lz4",
        atomic_rename: bool | None = None,
    ) -> None:
        self._fs = filesystem if filesystem is not None else pafs.LocalFileSystem()
        self._local = self._fs.type_name == "local"
        # Whether ``move`` is an atomic rename; by default only on a local disk.
        self._atomic_rename = self._local if atomic_rename is None else atomic_rename
        if self._local:
            root = Path(root).expanduser().resolve().as_posix()
        self._root = str(root).rstrip("/")
        self._name = name or ("local" if self._local else self._fs.type_name)
        self._compression = compression
        self._lock = threading.Lock()
        self._fs.create_dir(self._root, recursive=True)

    @property
    def name(self) -> str:
        return self._name

    @property
    def root(self) -> str:
        return self._root

    @property
    def filesystem(self) -> pafs.FileSystem:
        return self._fs

    # -- reading ------------------------------------------------------------------------

    def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> BarTables:
        """Bars with ``start <= timestamp < end``; reads only the years the range touches."""
        lo, hi = to_ns(start, name="start"), to_ns(end, name="end")
        out: dict[str, pa.Table] = {}
        if hi <= lo:
            return out
        years = range(int(years_of(np.array([lo]))[0]), int(years_of(np.array([hi - 1]))[0]) + 1)
        for symbol in symbols:
            pieces = [
                piece
                for year in years
                if (piece := self._read_partition(symbol, timeframe, year, lo, hi)) is not None
                and piece.num_rows
            ]
            if pieces:
                out[symbol] = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
        return out

    def _read_partition(
        self, symbol: str, timeframe: Timeframe, year: int, lo: int, hi: int
    ) -> pa.Table | None:
        path = partition_path(self._root, symbol, timeframe, year)
        try:
            source = self._fs.open_input_file(path)
        except FileNotFoundError:
            return None
        with source:
            parquet = pq.ParquetFile(source)
            meta = parquet.metadata
            whole_year = lo <= year_start_ns(year) and hi >= year_start_ns(year + 1)
            if whole_year:
                table = parquet.read()
            else:
                # Row-group pruning on the timestamp statistics (data is sorted in a file).
                groups = []
                for i in range(meta.num_row_groups):
                    low, high = _minmax(meta.row_group(i))
                    if low is None or high is None or (low < hi and high >= lo):
                        groups.append(i)
                if not groups:
                    return None
                table = parquet.read_row_groups(groups)
        ns = table_ns(table)
        first, last = np.searchsorted(ns, [lo, hi], side="left")
        if first == 0 and last == table.num_rows:
            return table
        return table.slice(int(first), int(last - first))

    def catalog(self) -> list[CatalogEntry]:
        """Every symbol and timeframe the store holds, with range, rows and bytes on disk."""
        selector = pafs.FileSelector(self._root, recursive=True, allow_not_found=True)
        found: dict[tuple[str, Timeframe], list[tuple[int, int, int, int]]] = {}
        assets: dict[str, AssetClass] = {}
        for info in self._fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            parts = parse_partition_path(info.path[len(self._root) + 1 :])
            if parts is None:
                continue
            asset, timeframe, symbol, _year = parts
            with self._fs.open_input_file(info.path) as source:
                meta = pq.read_metadata(source)
            if meta.num_rows == 0:
                continue
            first, _ = _minmax(meta.row_group(0))
            _, last = _minmax(meta.row_group(meta.num_row_groups - 1))
            if first is None or last is None:
                ns = table_ns(self._read_whole(info.path))
                first, last = int(ns[0]), int(ns[-1])
            assets[symbol] = asset
            found.setdefault((symbol, timeframe), []).append(
                (first, last, meta.num_rows, info.size or 0)
            )
        entries = []
        for (symbol, timeframe), parts_ in sorted(found.items(), key=lambda kv: kv[0][0]):
            entries.append(
                CatalogEntry(
                    symbol=symbol,
                    asset_class=assets[symbol],
                    timeframe=timeframe,
                    start=ns_to_datetime(min(p[0] for p in parts_)),
                    end=ns_to_datetime(max(p[1] for p in parts_)),
                    rows=sum(p[2] for p in parts_),
                    bytes=sum(p[3] for p in parts_),
                )
            )
        return sorted(entries, key=lambda e: (e.symbol, e.timeframe))

    # -- writing ------------------------------------------------------------------------

    def write(self, symbol: str, timeframe: Timeframe, table: pa.Table) -> WriteResult:
        """Merge ``table`` into the store: on equal timestamps the new row wins.

        All partitions are staged first and committed after, so a failure part-way leaves
        every existing file as it was. The table's ``BarOrigin`` (``origin_of``) is kept in
        each file; bars of another kind than those stored (raw beside adjusted, synthetic
        beside real) are refused with ``MixedBarsError`` and nothing is written.
        """
        origin = origin_of(table)
        table, dropped = _sorted_unique(table)
        if table.num_rows == 0:
            return WriteResult(0, dropped)
        if origin is not None:
            table = with_origin(table, origin)
        ns = table_ns(table)
        years = years_of(ns)
        cuts = np.flatnonzero(np.diff(years)) + 1
        bounds = [0, *cuts.tolist(), len(ns)]
        replaced = 0
        with self._lock:
            self._check_kind(symbol, timeframe, origin)
            staged: list[tuple[str, str]] = []
            try:
                for a, b in itertools.pairwise(bounds):
                    path = partition_path(self._root, symbol, timeframe, int(years[a]))
                    merged, n_replaced = self._merge(path, table.slice(a, b - a), ns[a:b])
                    replaced += n_replaced
                    staged.append((self._stage(path, merged), path))
                for temp, path in staged:
                    self._commit(temp, path)
            except BaseException:
                for temp, path in staged:
                    if temp != path:
                        self._remove_quietly(temp)
                raise
        return WriteResult(table.num_rows, replaced + dropped)

    def origin(self, symbol: str, timeframe: Timeframe) -> BarOrigin | None:
        """What made the stored bars of ``symbol`` at ``timeframe`` (``None``: none stored,
        or stored before origins were recorded)."""
        first = self._first_partition(symbol, timeframe)
        if first is None:
            return None
        with self._fs.open_input_file(first) as source:
            return origin_of(pq.read_schema(source))

    def _first_partition(self, symbol: str, timeframe: Timeframe) -> str | None:
        selector = pafs.FileSelector(
            symbol_dir(self._root, symbol, timeframe), allow_not_found=True
        )
        files = sorted(
            info.path
            for info in self._fs.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(".parquet")
        )
        return files[0] if files else None

    def _check_kind(self, symbol: str, timeframe: Timeframe, new: BarOrigin | None) -> None:
        first = self._first_partition(symbol, timeframe)
        if first is None:
            return
        with self._fs.open_input_file(first) as source:
            held = origin_of(pq.read_schema(source))
        if _kind(held) != _kind(new):
            raise MixedBarsError(
                f"the {self._name} store holds {_said(held)} {timeframe} bars of {symbol}; "
                f"refusing to add {_said(new)} ones (to replace them, remove "
                f"{symbol_dir(self._root, symbol, timeframe)} first)",
                context={"symbol": symbol, "timeframe": str(timeframe)},
            )

    def delete(self, symbol: str, timeframe: Timeframe) -> bool:
        """Remove every partition of ``symbol`` at ``timeframe``; ``False`` if there were none."""
        directory = symbol_dir(self._root, symbol, timeframe)
        with self._lock:
            if self._fs.get_file_info(directory).type == pafs.FileType.NotFound:
                return False
            self._fs.delete_dir(directory)
        return True

    def _read_whole(self, path: str) -> pa.Table:
        with self._fs.open_input_file(path) as source:
            return pq.read_table(source)

    def _merge(self, path: str, new: pa.Table, new_ns: np.ndarray) -> tuple[pa.Table, int]:
        try:
            old = self._read_whole(path)
        except FileNotFoundError:
            return new, 0
        old_ns = table_ns(old)
        if old_ns.size and new_ns[0] > old_ns[-1]:  # plain append
            return pa.concat_tables([old, new]), 0
        pos = np.searchsorted(new_ns, old_ns).clip(max=len(new_ns) - 1)
        clash = new_ns[pos] == old_ns
        kept = old.filter(pa.array(~clash))
        merged = pa.concat_tables([kept, new])
        merged = merged.take(pc.sort_indices(merged, [("timestamp", "ascending")]))
        return merged, int(clash.sum())

    # The one place that knows whether the filesystem renames atomically.
    def _stage(self, path: str, table: pa.Table) -> str:
        """Write ``table`` so it can be committed to ``path``; return where it was written.

        Local disks: a temp file beside ``path``, renamed over it by ``_commit`` (atomic on
        POSIX). Object stores have no atomic rename, and a single PUT is already atomic
        there, so the table goes straight to ``path``.
        """
        self._fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        target = f"{path}.{uuid.uuid4().hex}.tmp" if self._atomic_rename else path
        try:
            with self._fs.open_output_stream(target) as sink:
                pq.write_table(
                    table, sink, compression=self._compression, row_group_size=_ROW_GROUP
                )
        except BaseException:
            if target != path:
                self._remove_quietly(target)
            raise
        return target

    def _commit(self, staged: str, path: str) -> None:
        if staged != path:
            self._fs.move(staged, path)

    def _remove_quietly(self, path: str) -> None:
        with contextlib.suppress(OSError):
            self._fs.delete_file(path)


def _kind(origin: BarOrigin | None) -> tuple[str, str]:
    """What must not mix in one series: synthetic, sandbox and market bars, adjustments."""
    if origin is None:
        return "market", "unknown"
    made = origin.origin if origin.origin in ("synthetic", "sandbox") else "market"
    return made, origin.adjustment


def _said(origin: BarOrigin | None) -> str:
    if origin is None:
        return "unrecorded (adjustment unknown)"
    made, adjustment = _kind(origin)
    return "synthetic" if made == "synthetic" else f"{origin.origin} ({adjustment})"


def _minmax(group: pq.RowGroupMetaData) -> tuple[int | None, int | None]:
    """Raw (epoch-ns) min and max of the timestamp column in one row group, if recorded."""
    stats = group.column(0).statistics
    if stats is None or not stats.has_min_max:
        return None, None
    low, high = stats.min_raw, stats.max_raw
    if not isinstance(low, int) or not isinstance(high, int):
        return None, None
    return low, high


def _sorted_unique(table: pa.Table) -> tuple[pa.Table, int]:
    """Sort by timestamp keeping the last of equal timestamps; validate; count drops."""
    if table.num_rows == 0:
        return empty_bar_table(), 0
    ts_type = table.schema.field("timestamp").type if "timestamp" in table.column_names else None
    if ts_type is not None and pa.types.is_timestamp(ts_type) and ts_type.tz is not None:
        index = table.column_names.index("timestamp")
        column = table.column(index).cast(BAR_SCHEMA.field("timestamp").type)
        table = table.set_column(index, "timestamp", column)
        table = table.take(pc.sort_indices(table, [("timestamp", "ascending")]))
        ns = table_ns(table)
        keep = np.ones(len(ns), dtype=bool)
        keep[:-1] = ns[1:] != ns[:-1]  # the sort is stable: the last one given survives
        if not keep.all():
            dropped = int((~keep).sum())
            return validate_bar_table(table.filter(pa.array(keep))), dropped
    return validate_bar_table(table), 0
