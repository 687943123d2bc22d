"""Import a user's CSV or Parquet file of bars into a store: all rows valid, or nothing.

Two readers give the same table. The fast one (``_fast_csv``, ``_fast_parquet``) reads the
columns with pyarrow's readers straight into arrays and checks every rule in vectorised
passes, with no Python per row; it accepts only what is plainly valid. Anything else (a
bad cell, a blank, a misshapen line, a duplicate, a timestamp in a form it does not parse)
goes to the careful reader, which reads the file again and names every bad line.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from stockyard.core import BAR_SCHEMA, Timeframe, ns_to_datetime, validate_bar_table
from stockyard.data._parquet import WriteResult
from stockyard.data._provenance import BarOrigin, with_origin
from stockyard.resilience import InvalidDataError

__all__ = ["DataImportError", "ImportResult", "import_file"]

_REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")
_OPTIONAL = ("trade_count", "vwap")
_SHOWN = 20  # errors spelled out in the message; all of them are in ``errors``


class DataImportError(InvalidDataError):
    """A file could not be imported; ``errors`` lists (line or row, reason) and nothing
    was written. CSV positions are 1-based lines (the header is line 1); Parquet positions
    are 0-based row indexes."""

    def __init__(self, path: Path, errors: list[tuple[int, str]], *, unit: str) -> None:
        shown = "; ".join(f"{unit} {where}: {why}" for where, why in errors[:_SHOWN])
        more = f" (and {len(errors) - _SHOWN} more)" if len(errors) > _SHOWN else ""
        message = f"{len(errors)} bad {unit}(s), nothing imported: {shown}{more}"
        if unit == "file":  # a problem with the whole file, not with rows
            message = f"{'; '.join(why for _, why in errors)}, nothing imported"
        super().__init__(
            f"{path.name}: {message}",
            context={"path": str(path), "errors": len(errors)},
        )
        self.path = path
        self.errors = errors
        self.unit = unit


@dataclass(frozen=True, slots=True)
class ImportResult:
    symbol: str
    timeframe: Timeframe
    rows: int
    rows_written: int
    rows_deduplicated: int
    start: datetime
    end: datetime


class _Writable(Protocol):
    def write(self, symbol: str, timeframe: Timeframe, table: pa.Table) -> WriteResult: ...


def import_file(
    path: Path | str,
    *,
    symbol: str,
    timeframe: Timeframe,
    store: _Writable,
    tz: str = "UTC",
) -> ImportResult:
    """Validate every row of ``path`` (``.csv`` or ``.parquet``), then write it to ``store``.

    Columns: ``timestamp, open, high, low, close, volume`` and optionally ``trade_count,
    vwap``. Timestamps with an offset are taken as given; naive ones are in ``tz`` (UTC
    unless told). Raises ``DataImportError`` listing every bad row (and duplicate
    timestamps) by line; in that case nothing is written.
    """
    path = Path(path)
    if not path.is_file():
        raise DataImportError(path, [(0, "file not found")], unit="file")
    parquet = path.suffix.lower() in (".parquet", ".pq")
    unit = "row" if parquet else "line"
    table = _fast_parquet(path, tz=tz) if parquet else _fast_csv(path, tz=tz)
    errors: list[tuple[int, str]] = []
    if table is None:  # not plainly valid: the careful reader says why, line by line
        if parquet:
            frame = _read_parquet(path)
            where, misshapen = np.arange(len(frame)), np.zeros(len(frame), dtype=bool)
        else:
            frame, where, misshapen = _read_csv(path)
        table, errors = _validate(frame, where, misshapen, unit=unit, tz=tz)
    if errors:
        raise DataImportError(path, errors, unit=unit)
    if table.num_rows == 0:
        raise DataImportError(path, [(0, "no rows")], unit="file")
    order = np.argsort(table.column("timestamp").cast(pa.int64()).to_numpy(), kind="stable")
    table = validate_bar_table(table.take(order))
    table = with_origin(table, BarOrigin("file", "unknown", path.name))
    written = store.write(symbol, timeframe, table)
    ns = table.column("timestamp").cast(pa.int64()).to_numpy()
    return ImportResult(
        symbol=symbol,
        timeframe=timeframe,
        rows=table.num_rows,
        rows_written=written.rows_written,
        rows_deduplicated=written.rows_deduplicated,
        start=ns_to_datetime(int(ns[0])),
        end=ns_to_datetime(int(ns[-1])),
    )


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Cells as strings, the (1-based) line each record ends on, and which records had the
    wrong number of cells (padded or cut to fit)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        _check_header(path, header, unit="line")
        rows: list[list[str]] = []
        lines: list[int] = []
        misshapen: list[bool] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not rows
            misshapen.append(len(record) != len(header))
            rows.append([*record, *[""] * (len(header) - len(record))][: len(header)])
            lines.append(reader.line_num)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return frame, np.array(lines, dtype=np.int64), np.array(misshapen, dtype=bool)


def _read_parquet(path: Path) -> pd.DataFrame:
    table = pq.read_table(path)
    header = [name.lower() for name in table.column_names]
    _check_header(path, header, unit="row")
    return table.rename_columns(header).to_pandas()


def _check_header(path: Path, header: list[str], *, unit: str) -> None:
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise DataImportError(path, [(1, f"missing column(s): {', '.join(missing)}")], unit=unit)


def _validate(
    frame: pd.DataFrame, where: np.ndarray, misshapen: np.ndarray, *, unit: str, tz: str
) -> tuple[pa.Table, list[tuple[int, str]]]:
    problems: dict[int, list[str]] = {}

    def flag(mask: np.ndarray, reason: str) -> None:
        for i in np.flatnonzero(mask).tolist():
            problems.setdefault(i, []).append(reason)

    flag(misshapen, f"expected {len(frame.columns)} cells")
    stamps = _timestamps(frame["timestamp"], tz=tz)
    flag(stamps.isna().to_numpy(), "bad timestamp")
    numbers: dict[str, np.ndarray] = {}
    for name in (*_REQUIRED[1:], *(n for n in _OPTIONAL if n in frame.columns)):
        cells = frame[name]
        blank = cells.isna().to_numpy() | (cells.astype(str).str.strip() == "").to_numpy()
        values = pd.to_numeric(cells.where(~blank), errors="coerce").to_numpy(dtype=np.float64)
        if name in _OPTIONAL:
            bad = ~blank & ~(np.isfinite(values) & (values >= 0))
        else:
            bad = ~(np.isfinite(values) & (values >= 0))
        flag(bad, f"{name} must be a finite number >= 0")
        if name == "trade_count":
            fraction = ~blank & np.isfinite(values) & (values != np.round(values))
            flag(fraction, "trade_count must be a whole number")
        numbers[name] = values
    low, high = numbers["low"], numbers["high"]
    for name in ("open", "close"):
        flag((numbers[name] < low) | (numbers[name] > high), f"{name} outside [low, high]")
    ns = stamps.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).astype(np.int64)
    valid = ~stamps.isna().to_numpy()
    seen: dict[int, int] = {}
    for i in np.flatnonzero(valid).tolist():
        first = seen.setdefault(int(ns[i]), i)
        if first != i:
            problems.setdefault(i, []).append(
                f"duplicate timestamp (first on {unit} {int(where[first])})"
            )
    errors = [(int(where[i]), ", ".join(reasons)) for i, reasons in sorted(problems.items())]
    if errors:
        return BAR_SCHEMA.empty_table(), errors
    return _bar_table(ns, numbers), []


def _bar_table(ns: np.ndarray, numbers: dict[str, np.ndarray]) -> pa.Table:
    """The ``BAR_SCHEMA`` table of valid rows (UTC ns, float columns; optional ones NaN
    where blank)."""
    rows = len(ns)
    columns = {
        "timestamp": pa.array(ns).cast(BAR_SCHEMA.field("timestamp").type),
        **{name: pa.array(numbers[name]) for name in _REQUIRED[1:]},
        "trade_count": _optional(numbers.get("trade_count"), pa.int64(), rows),
        "vwap": _optional(numbers.get("vwap"), pa.float64(), rows),
    }
    return pa.Table.from_pydict(columns, schema=BAR_SCHEMA)


# -- the fast reader: plainly valid files, read and checked in arrays -------------------------

_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def _fast_csv(path: Path, *, tz: str) -> pa.Table | None:
    """The file's bars when every line is plainly valid, else None (see the module doc)."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        header_text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if '"' in header_text:
        return None
    header = [name.strip().lower() for name in header_text.rstrip("\r\n").split(",")]
    if any(name not in header for name in _REQUIRED) or len(set(header)) != len(header):
        return None
    wanted = [n for n in (*_REQUIRED, *_OPTIONAL) if n in header]
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pcsv.ParseOptions(newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(
                include_columns=wanted,
                column_types={"timestamp": pa.string()}
                | {n: pa.float64() for n in wanted if n != "timestamp"},
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    ns = _fast_timestamps(table.column("timestamp"), tz=tz)
    return None if ns is None else _checked(table, ns)


def _fast_parquet(path: Path, *, tz: str) -> pa.Table | None:
    """As ``_fast_csv`` for Parquet: numeric columns and a timestamp column, all valid."""
    table = pq.read_table(path)
    header = [name.lower() for name in table.column_names]
    if any(name not in header for name in _REQUIRED) or len(set(header)) != len(header):
        return None
    table = table.rename_columns(header)
    stamps = table.column("timestamp")
    if not pa.types.is_timestamp(stamps.type) or stamps.null_count:
        return None
    if stamps.type.tz is None:
        naive = stamps.cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy()
        ns = _localized(naive, tz=tz)
    else:
        ns = stamps.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy()
    if ns is None:
        return None
    for name in (*_REQUIRED[1:], *_OPTIONAL):
        if name in header:
            kind = table.column(name).type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                return None
    return _checked(table, ns)


def _fast_timestamps(cells: pa.ChunkedArray[Any], *, tz: str) -> np.ndarray | None:
    """UTC ns of ISO timestamps in one of the plain naive forms, or None."""
    for form in _NAIVE_FORMATS:
        try:
            parsed = pc.strptime(cells, format=form, unit="ns")
        except (pa.ArrowInvalid, NotImplementedError):
            continue
        if parsed.null_count:
            return None
        return _localized(parsed.cast(pa.int64()).to_numpy(), tz=tz)
    return None


def _localized(naive: np.ndarray, *, tz: str) -> np.ndarray | None:
    """Wall times in ``tz`` as UTC ns, or None where one does not exist or is ambiguous."""
    if tz in ("UTC", "utc"):
        return naive
    local = pd.DatetimeIndex(naive.view("datetime64[ns]")).tz_localize(
        tz, ambiguous="NaT", nonexistent="NaT"
    )
    if local.hasnans:
        return None
    return np.asarray(local.tz_convert("UTC").asi8)


def _checked(table: pa.Table, ns: np.ndarray) -> pa.Table | None:
    """The bar table when every row passes the careful reader's rules, else None."""
    numbers: dict[str, np.ndarray] = {}
    for name in (*_REQUIRED[1:], *(n for n in _OPTIONAL if n in table.column_names)):
        column = table.column(name).cast(pa.float64())
        blank = column.null_count > 0
        if blank and name in _REQUIRED:
            return None
        values = column.to_numpy()  # nulls (blank optional cells) become NaN
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(values) & (values >= 0)
        if name in _OPTIONAL:
            ok |= np.isnan(values) & _nulls(column)
        if not ok.all():
            return None
        if (
            name == "trade_count"
            and (np.nan_to_num(values) != np.round(np.nan_to_num(values))).any()
        ):
            return None
        numbers[name] = values
    low, high = numbers["low"], numbers["high"]
    for name in ("open", "close"):
        if ((numbers[name] < low) | (numbers[name] > high)).any():
            return None
    ordered = ns if bool((np.diff(ns) > 0).all()) else np.sort(ns)
    if bool((np.diff(ordered) == 0).any()):  # a duplicate timestamp
        return None
    return _bar_table(ns, numbers)


def _nulls(column: pa.ChunkedArray[Any]) -> np.ndarray:
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _optional(values: np.ndarray | None, kind: pa.DataType, rows: int) -> pa.Array[Any]:
    if values is None:
        values = np.full(rows, np.nan)
    missing = np.isnan(values)
    array: pa.Array[Any] = pa.array(np.where(missing, 0, values), mask=missing).cast(kind)
    return array


def _timestamps(cells: pd.Series, *, tz: str) -> pd.Series:
    """Parse to UTC; naive values are read in ``tz``. Unparseable cells become NaT."""
    if isinstance(cells.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = cells.dt.tz_convert("UTC")
        return converted
    if pd.api.types.is_datetime64_dtype(cells.dtype):
        localized = cells.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        converted = localized.dt.tz_convert("UTC")
        return converted
    text = cells.astype(str).str.strip()
    aware = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    out = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], utc=True, errors="coerce", format="ISO8601")
    if (~aware).any():
        naive = pd.to_datetime(text[~aware], errors="coerce", format="ISO8601")
        local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        out[~aware] = local.dt.tz_convert("UTC")
    return out
