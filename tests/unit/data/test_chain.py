"""SourceChain: priority order, "has the range", write-through, failures, provenance."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from stockyard.config import LogSettings, load_settings
from stockyard.core import BAR_SCHEMA, AssetClass, SimClock, Timeframe
from stockyard.data import ParquetStore
from stockyard.data._chain import SourceChain, largest_gap, make_chain
from stockyard.data._source import BarTables
from stockyard.obs import configure_logging, flush_logs, shutdown_logging
from stockyard.resilience import DataUnavailableError, ErrorCategory, ErrorRegistry

# exchange_calendars (behind the NYSE calendar) reads Series.values on tz-aware data, which
# pandas 3.1 deprecates; raised once, when the calendar is first built.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Series.values returning an ndarray that drops timezone:DeprecationWarning"
)

NOW = datetime(2024, 6, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def at(day: date, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


def bars(stamps: Sequence[datetime]) -> pa.Table:
    n = len(stamps)
    price = np.linspace(100.0, 101.0, n)
    return pa.table(
        {
            "timestamp": pa.array(stamps, BAR_SCHEMA.field("timestamp").type),
            "open": price,
            "high": price + 0.5,
            "low": price - 0.5,
            "close": price,
            "volume": np.full(n, 100.0),
            "trade_count": pa.array(np.full(n, 3), pa.int64()),
            "vwap": price,
        },
        schema=BAR_SCHEMA,
    )


def session(day: date, *, until: tuple[int, int] = (21, 0)) -> list[datetime]:
    """A January (EST) regular session of minute bars, 14:30 UTC to ``until``."""
    first, last = at(day, 14, 30), at(day, *until)
    return [first + i * MINUTE for i in range(int((last - first) / MINUTE))]


def sessions(*days: date) -> pa.Table:
    return bars([t for d in days for t in session(d)])


class MemorySource:
    """A HistoricalSource over tables in memory; records what it was asked."""

    def __init__(
        self, name: str, tables: dict[str, pa.Table] | None = None, error: Exception | None = None
    ) -> None:
        self.name = name
        self.tables = tables or {}
        self.error = error
        self.asked: list[list[str]] = []

    def get_bars(
        self, symbols: Sequence[str], timeframe: Timeframe, start: datetime, end: datetime
    ) -> BarTables:
        self.asked.append(list(symbols))
        if self.error is not None:
            raise self.error
        out = {}
        for symbol in symbols:
            table = self.tables.get(symbol)
            if table is None:
                continue
            ts = table.column("timestamp").to_pylist()
            keep = [start <= t < end for t in ts]
            sliced = table.filter(pa.array(keep))
            if sliced.num_rows:
                out[symbol] = sliced
        return out


JAN2, JAN3, JAN4, JAN5 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)
WEEK_START, WEEK_END = at(JAN2), at(date(2024, 1, 6))


@pytest.fixture
def store(tmp_path: Path) -> ParquetStore:
    return ParquetStore(tmp_path / "data")


def chain_of(*sources: object, local: ParquetStore | None = None, **kw: object) -> SourceChain:
    return SourceChain(list(sources), local=local, clock=SimClock(NOW), **kw)  # type: ignore[arg-type]


def test_a_complete_local_range_is_served_locally_and_no_remote_is_asked(
    store: ParquetStore,
) -> None:
    store.write("AAPL", Timeframe.MINUTE, sessions(JAN2, JAN3, JAN4, JAN5))
    remote = MemorySource("alpaca", {"AAPL": sessions(JAN2, JAN3, JAN4, JAN5)})

    result = chain_of(store, remote, local=store).fetch(
        ["AAPL"], Timeframe.MINUTE, WEEK_START, WEEK_END
    )

    assert result.origin == {"AAPL": "local"}
    assert result.complete == {"AAPL": True}
    assert result.tables["AAPL"].num_rows == 4 * 390
    assert remote.asked == []


def test_a_missing_session_sends_the_symbol_to_the_next_source_which_is_kept_locally(
    store: ParquetStore,
) -> None:
    store.write("AAPL", Timeframe.MINUTE, sessions(JAN2, JAN4, JAN5))  # Jan 3 missing
    s3 = MemorySource("s3", {"AAPL": sessions(JAN2, JAN3, JAN4, JAN5)})
    chain = chain_of(store, s3, local=store)

    first = chain.fetch(["AAPL"], Timeframe.MINUTE, WEEK_START, WEEK_END)
    second = chain.fetch(["AAPL"], Timeframe.MINUTE, WEEK_START, WEEK_END)

    assert first.origin == {"AAPL": "s3"}
    assert first.reasons["AAPL"][0][0] == "local"
    assert "incomplete" in first.reasons["AAPL"][0][1]
    assert second.origin == {"AAPL": "local"}  # written through on the first read
    assert second.tables["AAPL"].equals(first.tables["AAPL"])
    assert len(s3.asked) == 1


def test_weekends_and_holidays_are_not_gaps() -> None:
    fri, tue = date(2024, 1, 12), date(2024, 1, 16)  # Monday 15 January: MLK day, closed
    local = MemorySource("local", {"SPY": sessions(fri, tue)})
    remote = MemorySource("alpaca", {})

    result = chain_of(local, remote).fetch(
        ["SPY"], Timeframe.MINUTE, at(fri), at(date(2024, 1, 17))
    )

    assert result.complete == {"SPY": True}
    assert remote.asked == []


def test_a_range_stored_only_up_to_midday_is_not_the_whole_day() -> None:
    local = MemorySource("local", {"AAPL": bars(session(JAN2, until=(16, 0)))})
    remote = MemorySource("alpaca", {"AAPL": sessions(JAN2)})

    result = chain_of(local, remote).fetch(["AAPL"], Timeframe.MINUTE, at(JAN2), at(JAN3))

    assert result.origin == {"AAPL": "alpaca"}
    assert result.tables["AAPL"].num_rows == 390


def test_daily_bars_over_a_month_with_weekends_are_complete() -> None:
    days = [d for d in (date(2024, 1, 1) + timedelta(n) for n in range(31)) if d.weekday() < 5]
    days = [d for d in days if d not in (date(2024, 1, 1), date(2024, 1, 15))]  # holidays
    daily = bars([at(d, 5) for d in days])  # Alpaca stamps daily bars at midnight New York
    gap = largest_gap(
        daily,
        asset_class=AssetClass.STOCK,
        timeframe=Timeframe.DAY,
        start_ns=int(at(date(2024, 1, 1)).timestamp()) * 10**9,
        end_ns=int(at(date(2024, 2, 1)).timestamp()) * 10**9,
    )
    assert gap == timedelta(0)


def test_crypto_gaps_are_measured_in_wall_clock_time() -> None:
    saturday = date(2024, 1, 6)  # crypto trades at weekends
    start = at(saturday)
    hours = [start + timedelta(hours=h) for h in range(24) if h not in (5, 6, 7, 8, 9)]
    local = MemorySource("local", {"BTC/USD": bars(hours)})
    remote = MemorySource(
        "alpaca", {"BTC/USD": bars([start + timedelta(hours=h) for h in range(24)])}
    )

    result = chain_of(local, remote).fetch(
        ["BTC/USD"], Timeframe.HOUR, start, at(saturday + timedelta(1))
    )

    assert result.origin == {"BTC/USD": "alpaca"}  # a 5-hour hole is more than 3 hours


def test_only_the_symbols_still_missing_are_asked_of_the_next_source(
    store: ParquetStore,
) -> None:
    store.write("AAPL", Timeframe.MINUTE, sessions(JAN2))
    remote = MemorySource("alpaca", {"AAPL": sessions(JAN2), "MSFT": sessions(JAN2)})

    result = chain_of(store, remote, local=store).fetch(
        ["AAPL", "MSFT"], Timeframe.MINUTE, at(JAN2), at(JAN3)
    )

    assert result.origin == {"AAPL": "local", "MSFT": "alpaca"}
    assert remote.asked == [["MSFT"]]


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "logs"
    configure_logging(LogSettings(dir=directory, format="json", console=False))
    try:
        yield directory
    finally:
        shutdown_logging()


def test_a_failing_source_is_classified_recorded_logged_once_and_skipped(log_dir: Path) -> None:
    errors = ErrorRegistry()
    s3 = MemorySource("s3", error=ConnectionRefusedError(111, "Connection refused"))
    alpaca = MemorySource("alpaca", {"AAPL": sessions(JAN2)})

    result = chain_of(s3, alpaca, errors=errors).fetch(
        ["AAPL"], Timeframe.MINUTE, at(JAN2), at(JAN3)
    )

    assert result.origin == {"AAPL": "alpaca"}
    assert errors.count(category=ErrorCategory.NETWORK) == 1
    assert flush_logs()
    lines = (log_dir / "data_pipeline.log").read_text(encoding="utf-8").splitlines()
    failures = [e for e in map(json.loads, lines) if e.get("source") == "s3"]
    assert len(failures) == 1
    assert failures[0]["retryable"] is True
    assert "Connection refused" in failures[0]["reason"]


def test_when_every_source_fails_the_error_names_symbol_range_and_each_reason() -> None:
    s3 = MemorySource("s3", error=ConnectionRefusedError(111, "Connection refused"))
    alpaca = MemorySource("alpaca", error=PermissionError("401 request is not authorized"))

    with pytest.raises(DataUnavailableError) as caught:
        chain_of(s3, alpaca).get_bars(["AAPL"], Timeframe.MINUTE, at(JAN2), at(JAN3))

    text = str(caught.value)
    assert "AAPL" in text
    assert "2024-01-02T00:00:00+00:00" in text
    assert "2024-01-03T00:00:00+00:00" in text
    assert "s3 failed" in text
    assert "Connection refused" in text
    assert "alpaca failed" in text
    assert "not authorized" in text


def test_an_empty_local_store_and_a_failing_remote_is_unavailable_not_empty(
    store: ParquetStore,
) -> None:
    alpaca = MemorySource("alpaca", error=TimeoutError("read timed out"))

    with pytest.raises(DataUnavailableError, match="local no bars in the range"):
        chain_of(store, alpaca, local=store).get_bars(
            ["AAPL"], Timeframe.MINUTE, at(JAN2), at(JAN3)
        )


def test_a_symbol_no_source_has_is_absent_when_every_source_answered() -> None:
    tables = chain_of(MemorySource("local"), MemorySource("alpaca")).get_bars(
        ["NOPE"], Timeframe.MINUTE, at(JAN2), at(JAN3)
    )

    assert dict(tables) == {}


def test_without_a_complete_source_the_fullest_partial_answer_is_served(
    store: ParquetStore,
) -> None:
    store.write("AAPL", Timeframe.MINUTE, sessions(JAN2))
    alpaca = MemorySource("alpaca", {"AAPL": sessions(JAN2, JAN3)})  # Jan 4-5 nowhere

    result = chain_of(store, alpaca, local=store).fetch(
        ["AAPL"], Timeframe.MINUTE, WEEK_START, WEEK_END
    )

    assert result.origin == {"AAPL": "alpaca"}
    assert result.complete == {"AAPL": False}
    assert store.get_bars(["AAPL"], Timeframe.MINUTE, WEEK_START, WEEK_END)["AAPL"].num_rows == 780


def test_a_range_reaching_past_now_is_judged_up_to_now() -> None:
    local = MemorySource("local", {"AAPL": sessions(JAN2)})
    chain = SourceChain([local], clock=SimClock(at(JAN2, 21, 0)))

    result = chain.fetch(["AAPL"], Timeframe.MINUTE, at(JAN2), at(date(2024, 1, 10)))

    assert result.complete == {"AAPL": True}


def test_only_named_remote_sources_are_written_through(store: ParquetStore) -> None:
    synthetic = MemorySource("synthetic", {"AAPL": sessions(JAN2)})

    chain_of(store, synthetic, local=store).get_bars(["AAPL"], Timeframe.MINUTE, at(JAN2), at(JAN3))

    assert store.catalog() == []


def test_make_chain_follows_the_settings_and_skips_what_is_not_configured(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        env={},
        overrides={
            "home": str(tmp_path),
            "alpaca.base_url": "https://paper-api.alpaca.markets",
            "data.sources": "local,s3,alpaca,synthetic",
        },
    )

    chain = make_chain(settings)

    assert [s.name for s in chain.sources] == ["local", "synthetic"]


def test_make_chain_keeps_alpaca_for_the_local_sandbox_without_keys(tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={"home": str(tmp_path)})

    chain = make_chain(settings)

    assert [s.name for s in chain.sources] == ["local", "alpaca"]
