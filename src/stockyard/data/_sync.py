"""Copy partitions between two stores (local disk <-> S3/MinIO), skipping identical files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from stockyard.core import AssetClass, Timeframe
from stockyard.data._layout import parse_partition_path
from stockyard.data._parquet import ParquetStore

__all__ = ["SyncReport", "SyncedFile", "sync_stores"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class SyncedFile:
    """One partition: ``action`` is ``copied`` (target had none), ``merged`` (target had a
    different file; rows were merged, the source's winning on equal timestamps) or
    ``skipped`` (identical bytes)."""

    symbol: str
    timeframe: Timeframe
    year: int
    action: str
    rows: int
    bytes: int


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What ``sync_stores`` did, file by file."""

    source: str
    target: str
    files: list[SyncedFile] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable summary."""
        return {
            "source": self.source,
            "target": self.target,
            "copied": self.count("copied"),
            "merged": self.count("merged"),
            "skipped": self.count("skipped"),
            "bytes": sum(f.bytes for f in self.files if f.action != "skipped"),
            "files": [
                {
                    "symbol": f.symbol,
                    "timeframe": str(f.timeframe),
                    "year": f.year,
                    "action": f.action,
                    "rows": f.rows,
                    "bytes": f.bytes,
                }
                for f in self.files
            ],
        }


def sync_stores(
    source: ParquetStore,
    target: ParquetStore,
    *,
    symbols: Collection[str] | None = None,
    on_file: Callable[[SyncedFile], None] | None = None,
) -> SyncReport:
    """Bring every partition of ``source`` (only ``symbols``, if given) into ``target``.

    A partition the target lacks is written whole; one whose bytes already match (same
    size, then same SHA-256) is skipped; any other is merged through ``target.write``, so
    no row the target holds alone is ever lost. Writes use the target's staging, so a
    failure leaves the target's files as they were.
    """
    wanted = set(symbols) if symbols is not None else None
    report = SyncReport(source=source.name, target=target.name)
    for info, (_asset, timeframe, symbol, year) in _partitions(source):
        if wanted is not None and symbol not in wanted:
            continue
        relative = info.path[len(source.root) + 1 :]
        there = target.filesystem.get_file_info(f"{target.root}/{relative}")
        size = info.size or 0
        if there.type == pafs.FileType.File and there.size == size:
            same = _digest(source.filesystem, info.path) == _digest(target.filesystem, there.path)
            if same:
                _done(report, on_file, SyncedFile(symbol, timeframe, year, "skipped", 0, size))
                continue
        with source.filesystem.open_input_file(info.path) as handle:
            table = pq.read_table(handle)
        action = "merged" if there.type == pafs.FileType.File else "copied"
        target.write(symbol, timeframe, table)
        _done(report, on_file, SyncedFile(symbol, timeframe, year, action, table.num_rows, size))
    return report


def _done(
    report: SyncReport, on_file: Callable[[SyncedFile], None] | None, synced: SyncedFile
) -> None:
    report.files.append(synced)
    if on_file is not None:
        on_file(synced)


def _partitions(
    store: ParquetStore,
) -> list[tuple[pafs.FileInfo, tuple[AssetClass, Timeframe, str, int]]]:
    selector = pafs.FileSelector(store.root, recursive=True, allow_not_found=True)
    found = []
    for info in store.filesystem.get_file_info(selector):
        if info.type != pafs.FileType.File:
            continue
        parts = parse_partition_path(info.path[len(store.root) + 1 :])
        if parts is not None:
            found.append((info, parts))
    return sorted(found, key=lambda item: item[0].path)


def _digest(filesystem: pafs.FileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with filesystem.open_input_stream(path) as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
