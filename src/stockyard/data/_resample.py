"""Aggregate finer bars into coarser ones, binned the way Alpaca labels its bars."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from stockyard.core import BAR_SCHEMA, Timeframe, TimeUnit, validate_bar_table
from stockyard.data._calendar import CalendarName, Sessions, nyse_sessions
from stockyard.data._time import table_ns

__all__ = ["bin_labels", "resample"]

_DAY = 86_400 * 10**9


def resample(table: pa.Table, to: Timeframe, *, calendar: CalendarName | None = None) -> pa.Table:
    """Aggregate bars of ``table`` into ``to`` bars, each stamped with its bin's start.

    First open, highest high, lowest low, last close, summed volume and trade count, and a
    volume-weighted vwap. Minute and hour bins are aligned to the clock (an hour bar holds
    minutes ``hh:00``–``hh:59``). Without a calendar days are UTC days, weeks start Monday
    00:00 UTC and months on the 1st. With ``calendar="XNYS"`` only bars inside a regular
    session count, hour bins follow the New York clock and never span two sessions, a daily
    bar is one session stamped 00:00 New York time (a half day ends at 13:00), and week
    and month bars group sessions and are stamped with their first session's date.
    """
    table = validate_bar_table(table)
    ns = table_ns(table)
    labels = bin_labels(ns, to, calendar=calendar)
    keep = labels != np.iinfo(np.int64).min
    if not keep.all():
        table = table.filter(pa.array(keep))
        labels = labels[keep]
    if table.num_rows == 0:
        return BAR_SCHEMA.empty_table()
    return _aggregate(table, labels)


def bin_labels(ns: np.ndarray, to: Timeframe, *, calendar: CalendarName | None) -> np.ndarray:
    """Bin start (UTC ns) for each bar time; ``int64 min`` where a bar is outside sessions."""
    if calendar is None:
        return _utc_labels(ns, to)
    sessions = nyse_sessions()
    index = sessions.locate(ns)
    labels = np.full(ns.shape, np.iinfo(np.int64).min, dtype=np.int64)
    inside = index >= 0
    labels[inside] = _session_labels(ns[inside], index[inside], to, sessions)
    return labels


def _utc_labels(ns: np.ndarray, to: Timeframe) -> np.ndarray:
    day: np.ndarray = ns - ns % _DAY
    if to.is_intraday:
        size = to.seconds * 10**9
        labels: np.ndarray = day + ((ns - day) // size) * size
        return labels
    if to.unit is TimeUnit.DAY:
        return day
    days = day // _DAY
    if to.unit is TimeUnit.WEEK:
        mondays: np.ndarray = (days - (days + 3) % 7) * _DAY  # 1970-01-01 was a Thursday
        return mondays
    months = ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    starts = (months - months % to.amount).astype("datetime64[M]")
    firsts: np.ndarray = starts.astype("datetime64[ns]").astype(np.int64)
    return firsts


def _session_labels(
    ns: np.ndarray, index: np.ndarray, to: Timeframe, sessions: Sessions
) -> np.ndarray:
    offset = sessions.offset[index]
    if to.is_intraday:
        local = ns + offset
        day = local - local % _DAY
        size = to.seconds * 10**9
        labels: np.ndarray = day + ((local - day) // size) * size - offset
        return labels
    midnight = sessions.midnight()
    if to.unit is TimeUnit.DAY:
        daily: np.ndarray = midnight[index]
        return daily
    days = sessions.day
    if to.unit is TimeUnit.WEEK:
        group = days - (days + 3) % 7
    else:
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        group = months - months % to.amount
    # Stamp every session with the midnight of the first session in its group.
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    owner = np.repeat(first, np.diff(np.r_[first, len(group)]))
    grouped: np.ndarray = midnight[owner][index]
    return grouped


def _aggregate(table: pa.Table, labels: np.ndarray) -> pa.Table:
    starts = np.r_[0, np.flatnonzero(np.diff(labels)) + 1]
    ends = np.r_[starts[1:], len(labels)]
    col = {n: table.column(n).to_numpy() for n in ("open", "high", "low", "close", "volume")}
    volume = np.add.reduceat(col["volume"], starts)
    counts = table.column("trade_count")
    has_count = np.add.reduceat(counts.is_valid().to_numpy(zero_copy_only=False), starts) > 0
    count_sum = np.add.reduceat(counts.fill_null(pa.scalar(0, pa.int64())).to_numpy(), starts)
    vwap = table.column("vwap")
    weight = np.where(vwap.is_valid().to_numpy(zero_copy_only=False), col["volume"], 0.0)
    value = vwap.fill_null(pa.scalar(0.0, pa.float64())).to_numpy() * weight
    weight_sum = np.add.reduceat(weight, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap_out = np.add.reduceat(value, starts) / weight_sum
    columns = [
        pa.array(labels[starts]).cast(BAR_SCHEMA.field("timestamp").type),
        pa.array(col["open"][starts]),
        pa.array(np.maximum.reduceat(col["high"], starts)),
        pa.array(np.minimum.reduceat(col["low"], starts)),
        pa.array(col["close"][ends - 1]),
        pa.array(volume),
        pa.array(count_sum, mask=~has_count),
        pa.array(vwap_out, mask=~(weight_sum > 0)),
    ]
    return pa.Table.from_arrays(columns, schema=BAR_SCHEMA)
