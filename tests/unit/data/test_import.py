"""Importing a user's file: every row checked first, errors by line, nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stockyard.core import Timeframe
from stockyard.data import DataImportError, ParquetStore, _import, import_file
from stockyard.resilience import StockyardError

MINUTE = Timeframe.MINUTE
HEADER = "timestamp,open,high,low,close,volume,trade_count,vwap\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_clean_csv_is_imported_with_offsets_and_naive_times_as_utc(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "bars.csv",
        HEADER
        + "2024-01-02T14:31:00Z,10,11,9,10.5,100,3,10.2\n"
        + "2024-01-02 09:30:00-05:00,10,11,9,10,200,,\n"
        + "2024-01-02 14:32:00,10,10,10,10,0,0,10\n",
    )
    store = ParquetStore(tmp_path / "store")
    result = import_file(csv, symbol="AAPL", timeframe=MINUTE, store=store)
    assert (result.rows, result.rows_written, result.rows_deduplicated) == (3, 3, 0)
    assert (result.start, result.end) == (
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 14, 32, tzinfo=UTC),
    )
    got = store.get_bars(["AAPL"], MINUTE, result.start, datetime(2024, 1, 3, tzinfo=UTC))
    rows = got["AAPL"].to_pylist()
    assert [r["volume"] for r in rows] == [200, 100, 0]
    assert (rows[0]["trade_count"], rows[0]["vwap"]) == (None, None)


def test_naive_times_can_be_read_in_another_zone(tmp_path: Path) -> None:
    csv = write(tmp_path / "bars.csv", HEADER + "2024-01-02 09:30:00,10,11,9,10,1,1,10\n")
    store = ParquetStore(tmp_path / "store")
    result = import_file(csv, symbol="AAPL", timeframe=MINUTE, store=store, tz="America/New_York")
    assert result.start == datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def test_a_bad_csv_row_is_reported_by_line_and_the_store_is_unchanged(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path / "store")
    good = write(tmp_path / "good.csv", HEADER + "2024-01-02T14:30:00Z,1,2,1,1,1,1,1\n")
    import_file(good, symbol="AAPL", timeframe=MINUTE, store=store)
    before = files(tmp_path / "store")
    bad = write(
        tmp_path / "bad.csv",
        HEADER
        + "2024-01-02T14:31:00Z,10,11,9,10,1,1,10\n"  # line 2: fine
        + "2024-01-02T14:32:00Z,10,11,9,NaN,1,1,10\n"  # line 3: NaN close
        + "\n"  # line 4: blank, skipped
        + "2024-01-02T14:33:00Z,10,11,9,12,1,1,10\n"  # line 5: close above high
        + "not a time,10,11,9,10,1,1,10\n"  # line 6
        + "2024-01-02T14:31:00Z,10,11,9,10,1,1,10\n"  # line 7: duplicate of line 2
        + "2024-01-02T14:34:00Z,10,11,9,10,-1\n",  # line 8: short, negative volume
    )
    with pytest.raises(DataImportError) as caught:
        import_file(bad, symbol="AAPL", timeframe=MINUTE, store=store)
    error = caught.value
    assert isinstance(error, StockyardError)
    assert [line for line, _ in error.errors] == [3, 5, 6, 7, 8]
    reasons = dict(error.errors)
    assert "close must be a finite number" in reasons[3]
    assert "close outside [low, high]" in reasons[5]
    assert "bad timestamp" in reasons[6]
    assert "duplicate timestamp (first on line 2)" in reasons[7]
    assert "expected 8 cells" in reasons[8]
    assert "volume" in reasons[8]
    assert "line 3:" in str(error)
    assert files(tmp_path / "store") == before


def test_a_file_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    csv = write(tmp_path / "bars.csv", "time,open,high,low,close\n2024-01-02,1,1,1,1\n")
    with pytest.raises(DataImportError, match="missing column"):
        import_file(csv, symbol="AAPL", timeframe=MINUTE, store=ParquetStore(tmp_path / "s"))


def test_a_parquet_file_is_imported_and_its_bad_rows_reported_by_index(tmp_path: Path) -> None:
    stamps = pa.array(
        [datetime(2024, 1, 2, 14, 30 + i, tzinfo=UTC) for i in range(3)],
        pa.timestamp("us", tz="UTC"),
    )
    table = pa.table(
        {
            "timestamp": stamps,
            "open": [10.0, 10.0, 10.0],
            "high": [11.0, 11.0, 11.0],
            "low": [9.0, 9.0, 9.0],
            "close": [10.0, 10.0, 10.0],
            "volume": [1.0, 2.0, 3.0],
        }
    )
    good = tmp_path / "good.parquet"
    pq.write_table(table, good)
    store = ParquetStore(tmp_path / "store")
    assert import_file(good, symbol="MSFT", timeframe=MINUTE, store=store).rows == 3
    bad = tmp_path / "bad.parquet"
    pq.write_table(table.set_column(4, "close", pa.array([10.0, 12.0, 10.0])), bad)
    with pytest.raises(DataImportError) as caught:
        import_file(bad, symbol="MSFT", timeframe=MINUTE, store=store)
    assert caught.value.errors == [(1, "close outside [low, high]")]
    assert "row 1:" in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataImportError, match="not found"):
        import_file(
            tmp_path / "nope.csv", symbol="AAPL", timeframe=MINUTE, store=ParquetStore(tmp_path)
        )


def careful(path: Path, *, tz: str = "UTC") -> pa.Table:
    """The careful reader's table of a valid file (the one that names bad lines)."""
    if path.suffix == ".parquet":
        frame = _import._read_parquet(path)
        where, misshapen = np.arange(len(frame)), np.zeros(len(frame), dtype=bool)
        table, errors = _import._validate(frame, where, misshapen, unit="row", tz=tz)
    else:
        frame, where, misshapen = _import._read_csv(path)
        table, errors = _import._validate(frame, where, misshapen, unit="line", tz=tz)
    assert errors == []
    return table


@pytest.mark.parametrize(
    ("text", "tz"),
    [
        (HEADER + "2024-01-02 14:31:00,10,11,9,10.5,100,3,10.2\n2024-01-02 14:30:00,1,2,1,1,0,,\n",
         "UTC"),
        ("Timestamp, Open,HIGH,low,close,volume\r\n2024-01-02T09:30:00,10.0001,11,9,10,1\r\n\r\n"
         "2024-03-10T02:59:00,0.1,0.3,0.1,0.2,1e3\r\n", "UTC"),
        (HEADER + "2024-01-02,10,11,9,10,1,1,10\n2024-01-03,10,11,9,10,1,,\n", "America/New_York"),
        ("\ufefftimestamp,open,high,low,close,volume,extra\n2024-01-02 09:30:00,1,2,1,2,3,x\n",
         "Europe/London"),
        (HEADER + ' 2024-01-02 14:30:00,"1",2,1,1,1,1,1\n', "UTC"),  # a blank and quotes
    ],
)  # fmt: skip
def test_the_fast_reader_gives_the_careful_readers_table_for_a_clean_csv(
    tmp_path: Path, text: str, tz: str
) -> None:
    csv = write(tmp_path / "bars.csv", text)
    fast = _import._fast_csv(csv, tz=tz)
    assert fast is not None
    assert fast.equals(careful(csv, tz=tz))


def test_the_fast_reader_gives_the_careful_readers_table_for_a_clean_parquet(
    tmp_path: Path,
) -> None:
    table = pa.table(
        {
            "Timestamp": pa.array([2, 1], pa.timestamp("us", tz="America/New_York")),
            "open": pa.array([1, 2], pa.int32()),
            "high": [2.0, 3.0],
            "low": [1.0, 1.5],
            "close": [2.0, 2.5],
            "volume": pa.array([10, 0], pa.int64()),
            "vwap": [None, 2.0],
        }
    )
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path)
    fast = _import._fast_parquet(path, tz="UTC")
    assert fast is not None
    assert fast.equals(careful(path))


@pytest.mark.parametrize(
    "rows",
    [
        "2024-01-02T14:30:00Z,1,2,1,1,1,1,1\n",  # an offset: the careful reader parses it
        "2024-01-02 14:30:00,1,2,1,1,,1,1\n",  # a blank volume
        "2024-01-02 14:30:00,1,2,1,1,NaN,1,1\n",
        "2024-01-02 14:30:00,1,2,1,3,1,1,1\n",  # close above high
        "2024-01-02 14:30:00,1,2,1,1,1,1.5,1\n",  # a fraction of a trade
        "2024-01-02 14:30:00,1,2,1,1,1,1\n",  # a cell short
        "2024-01-02 14:30:00,1,2,1,1,1,1,1\n2024-01-02 14:30:00,1,2,1,1,1,1,1\n",
    ],
)
def test_the_fast_reader_leaves_anything_not_plainly_valid_to_the_careful_one(
    tmp_path: Path, rows: str
) -> None:
    csv = write(tmp_path / "bars.csv", HEADER + rows)
    assert _import._fast_csv(csv, tz="UTC") is None
