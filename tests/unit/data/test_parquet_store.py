"""The Parquet store: round trips, de-duplication, partition pruning and atomic writes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from stockyard.core import BAR_SCHEMA, AssetClass, Timeframe
from stockyard.data import (
    HistoricalSource,
    ParquetStore,
    SyntheticSource,
    symbol_from_dir,
    symbol_safe,
)

MINUTE = Timeframe.MINUTE


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def bars(start: datetime, count: int, *, price: float = 10.0, step: int = 60) -> pa.Table:
    ns = int(start.timestamp()) * 10**9 + np.arange(count, dtype=np.int64) * step * 10**9
    close = np.full(count, price)
    return pa.table(
        {
            "timestamp": pa.array(ns).cast(pa.timestamp("ns", tz="UTC")),
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.full(count, 100.0),
        }
    )


class Recording(pafs.FileSystemHandler):  # type: ignore[misc]
    """A local filesystem that records what is opened and can fail on cue."""

    def __init__(self, *, fail_move: bool = False, fail_write_after: int | None = None) -> None:
        self.fs = pafs.LocalFileSystem()
        self.opened: list[str] = []
        self.fail_move = fail_move
        self.fail_write_after = fail_write_after

    def get_type_name(self) -> str:
        return "recording"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return self.fs.get_file_info(paths)  # type: ignore[no-any-return]

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return self.fs.get_file_info(selector)  # type: ignore[no-any-return]

    def create_dir(self, path: str, recursive: bool) -> None:
        self.fs.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.fs.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.fs.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise NotImplementedError

    def delete_file(self, path: str) -> None:
        self.fs.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        if self.fail_move:
            raise OSError("disk gone")
        self.fs.move(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self.fs.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        self.opened.append(path)
        return self.fs.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        self.opened.append(path)
        return self.fs.open_input_file(path)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        if self.fail_write_after is None:
            return self.fs.open_output_stream(path)
        return pa.PythonFile(
            Breaking(self.fs.open_output_stream(path), self.fail_write_after), mode="w"
        )

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        raise NotImplementedError


class Breaking:
    """A sink that writes ``limit`` bytes, then fails as a full disk would."""

    def __init__(self, sink: Any, limit: int) -> None:
        self.sink, self.left, self.closed = sink, limit, False

    def write(self, data: bytes) -> int:
        if len(data) > self.left:
            self.sink.write(bytes(data)[: self.left])
            raise OSError("no space left on device")
        self.left -= len(data)
        return int(self.sink.write(data))

    def flush(self) -> None:
        self.sink.flush()

    def close(self) -> None:
        self.closed = True
        self.sink.close()


def test_it_is_a_historical_source(tmp_path: Path) -> None:
    assert isinstance(ParquetStore(tmp_path), HistoricalSource)


def test_bars_come_back_as_written_with_start_inclusive_and_end_exclusive(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    table = bars(utc(2024, 1, 2, 14, 30), 10)
    assert store.write("AAPL", MINUTE, table).rows_written == 10
    got = store.get_bars(["AAPL", "MSFT"], MINUTE, utc(2024, 1, 2, 14, 32), utc(2024, 1, 2, 14, 35))
    assert list(got) == ["AAPL"]
    assert got["AAPL"].schema == BAR_SCHEMA
    assert got["AAPL"].equals(
        ParquetStore(tmp_path)
        .get_bars(["AAPL"], MINUTE, utc(2024, 1, 1), utc(2025, 1, 1))["AAPL"]
        .slice(2, 3)
    )


def test_a_range_across_new_year_reads_both_partitions(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("BTC/USD", MINUTE, bars(utc(2023, 12, 31, 23, 50), 20))
    files = sorted(p.name for p in (tmp_path / "crypto" / "1Min" / "BTC-USD").iterdir())
    assert files == ["2023.parquet", "2024.parquet"]
    got = store.get_bars(["BTC/USD"], MINUTE, utc(2023, 1, 1), utc(2025, 1, 1))["BTC/USD"]
    assert got.num_rows == 20


def test_writing_again_replaces_equal_timestamps_and_keeps_the_rest(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("AAPL", MINUTE, bars(utc(2024, 1, 2, 14, 30), 10, price=10.0))
    result = store.write("AAPL", MINUTE, bars(utc(2024, 1, 2, 14, 35), 10, price=20.0))
    assert (result.rows_written, result.rows_deduplicated) == (10, 5)
    got = store.get_bars(["AAPL"], MINUTE, utc(2024, 1, 1), utc(2024, 2, 1))["AAPL"]
    assert got["close"].to_pylist() == [10.0] * 5 + [20.0] * 10


def test_duplicates_inside_one_write_keep_the_last_one_given(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    first, second = bars(utc(2024, 1, 2), 3, price=1.0), bars(utc(2024, 1, 2), 3, price=2.0)
    result = store.write("AAPL", MINUTE, pa.concat_tables([first, second]))
    assert (result.rows_written, result.rows_deduplicated) == (3, 3)
    got = store.get_bars(["AAPL"], MINUTE, utc(2024, 1, 1), utc(2024, 2, 1))["AAPL"]
    assert got["close"].to_pylist() == [2.0, 2.0, 2.0]


def test_an_invalid_table_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    table = bars(utc(2024, 1, 2), 3)
    bad = table.set_column(4, "close", pa.array([10.0, float("nan"), 10.0]))
    with pytest.raises(ValueError, match="close"):
        store.write("AAPL", MINUTE, bad)
    assert store.catalog() == []


def test_reading_one_month_opens_only_that_years_file(tmp_path: Path) -> None:
    source = SyntheticSource(seed=1)
    store = ParquetStore(tmp_path)
    for year in (2022, 2023, 2024):
        table = source.get_bars(["SPY"], MINUTE, utc(year, 1, 1), utc(year + 1, 1, 1))["SPY"]
        store.write("SPY", MINUTE, table)
    handler = Recording()
    reader = ParquetStore(str(tmp_path), filesystem=pafs.PyFileSystem(handler))
    got = reader.get_bars(["SPY"], MINUTE, utc(2023, 3, 1), utc(2023, 4, 1))["SPY"]
    assert [Path(p).name for p in handler.opened] == ["2023.parquet"]
    assert got.equals(source.get_bars(["SPY"], MINUTE, utc(2023, 3, 1), utc(2023, 4, 1))["SPY"])


def test_a_write_that_fails_midway_leaves_the_old_partition_intact(tmp_path: Path) -> None:
    ParquetStore(tmp_path).write("AAPL", MINUTE, bars(utc(2024, 1, 2), 100, price=10.0))
    before = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    for handler in (Recording(fail_write_after=200), Recording(fail_move=True)):
        store = ParquetStore(
            str(tmp_path), filesystem=pafs.PyFileSystem(handler), atomic_rename=True
        )
        with pytest.raises(OSError, match=r"space|disk"):
            store.write("AAPL", MINUTE, bars(utc(2024, 1, 2), 200, price=20.0))
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == before
    got = ParquetStore(tmp_path).get_bars(["AAPL"], MINUTE, utc(2024, 1, 1), utc(2025, 1, 1))
    assert got["AAPL"]["close"].to_pylist() == [10.0] * 100


def test_the_catalog_lists_symbols_ranges_rows_and_bytes(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("BTC/USD", MINUTE, bars(utc(2023, 12, 31, 23, 58), 4))
    store.write("AAPL", Timeframe.DAY, bars(utc(2024, 1, 2), 3, step=86_400))
    entries = store.catalog()
    assert [(e.symbol, str(e.timeframe), e.rows) for e in entries] == [
        ("AAPL", "1Day", 3),
        ("BTC/USD", "1Min", 4),
    ]
    crypto = entries[1]
    assert crypto.asset_class is AssetClass.CRYPTO
    assert (crypto.start, crypto.end) == (utc(2023, 12, 31, 23, 58), utc(2024, 1, 1, 0, 1))
    assert crypto.bytes > 0


def test_delete_removes_one_symbol_and_timeframe(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("AAPL", MINUTE, bars(utc(2024, 1, 2), 3))
    store.write("AAPL", Timeframe.DAY, bars(utc(2024, 1, 2), 3, step=86_400))
    assert store.delete("AAPL", MINUTE)
    assert not store.delete("AAPL", MINUTE)
    assert [str(e.timeframe) for e in store.catalog()] == ["1Day"]


@pytest.mark.parametrize("symbol", ["BTC/USD", "BRK.B", "ODD-NAME", "A%B", "X/Y/Z"])
def test_symbol_directory_names_are_safe_and_reversible(symbol: str) -> None:
    safe = symbol_safe(symbol)
    assert "/" not in safe
    assert symbol_from_dir(safe) == symbol


def test_concurrent_writes_to_one_symbol_lose_nothing(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    start = utc(2024, 1, 2)

    def write(part: int) -> None:
        store.write("AAPL", MINUTE, bars(start + timedelta(minutes=10 * part), 10))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = store.get_bars(["AAPL"], MINUTE, start, start + timedelta(days=1))["AAPL"]
    assert got.num_rows == 80
