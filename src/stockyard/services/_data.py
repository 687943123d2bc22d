"""The Data service: what the local store holds, bars of a symbol, and filling it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from stockyard.config import Settings
from stockyard.core import AssetClass, Timeframe
from stockyard.data import (
    CatalogEntry,
    GapReport,
    MarketCalendar,
    ParquetStore,
    find_gaps,
    make_chain,
    write_synthetic,
)
from stockyard.services._access import Auditor, Caller
from stockyard.services._errors import ServiceError

if TYPE_CHECKING:
    from stockyard.services._research import JobView, ResearchService

__all__ = [
    "BarView",
    "BarsView",
    "CatalogEntryView",
    "DataService",
    "FetchSpec",
    "GapView",
    "GapsView",
]

Progress = Callable[[float, str], None]
_SYMBOL = re.compile(r"[A-Z0-9./]{1,32}")


class CatalogEntryView(BaseModel):
    """What the store holds for one symbol at one timeframe."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    asset_class: str
    timeframe: str
    start: datetime
    end: datetime
    rows: int
    bytes: int


class GapView(BaseModel):
    """A stretch without bars: ``[start, end)``, the session time inside it (s) and the
    sessions it touches."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    market_s: float
    sessions: int


class GapsView(BaseModel):
    """The gaps of one stored series against the market calendar (NYSE sessions for
    stocks, around the clock for crypto): the sessions judged, the count, the market time
    missing (s), and the largest gaps (up to ``shown``)."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    timeframe: str
    calendar: str
    sessions: int
    count: int
    missing_s: float
    largest: list[GapView]


class BarView(BaseModel):
    model_config = ConfigDict(frozen=True)

    timestamp: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class BarsView(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    timeframe: str
    bars: list[BarView]


class FetchSpec(BaseModel):
    """Bars to write into the store from a source: ``synthetic`` (seeded, offline) or
    ``chain`` (the configured chain, ``data.sources``: the local store, then S3, then
    Alpaca, keeping what S3 or Alpaca answer in the local store)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: Annotated[
        list[Annotated[str, Field(pattern=r"^[A-Z0-9./]{1,32}$")]],
        Field(min_length=1, max_length=50),
    ]
    start: date
    end: date
    timeframe: str = Field(default="1Min", max_length=16)
    source: Literal["synthetic", "chain"] = "synthetic"
    seed: int = Field(default=0, ge=0, le=2**31)


def _frame(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except ValueError as exc:
        raise ServiceError("bad_timeframe", str(exc), status=400) from None


class DataService:
    """Over one ``ParquetStore`` (the data directory)."""

    def __init__(
        self,
        store: ParquetStore,
        *,
        auditor: Auditor,
        jobs: ResearchService | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.store = store
        self.auditor = auditor
        self.jobs = jobs
        self.settings = settings  # for the ``chain`` source
        self._gaps: dict[tuple[str, str, int, datetime], GapReport] = {}

    def gaps(self, *, symbol: str | None = None, shown: int = 5) -> list[GapsView]:
        """Each stored series' gaps against the market calendar (of ``symbol``'s series);
        a series is read again only when its rows or its end changed."""
        out = []
        for entry in self.store.catalog():
            if symbol is None or entry.symbol == symbol:
                report, calendar = self._gap_report(entry)
                largest = sorted(report.gaps, key=lambda g: g.market, reverse=True)[:shown]
                out.append(
                    GapsView(
                        symbol=entry.symbol,
                        timeframe=str(entry.timeframe),
                        calendar=calendar,
                        sessions=report.sessions,
                        count=len(report.gaps),
                        missing_s=report.missing.total_seconds(),
                        largest=[
                            GapView(
                                start=g.start,
                                end=g.end,
                                market_s=g.market.total_seconds(),
                                sessions=g.sessions,
                            )
                            for g in largest
                        ],
                    )
                )
        return out

    def _gap_report(self, entry: CatalogEntry) -> tuple[GapReport, str]:
        stock = entry.asset_class is AssetClass.STOCK
        calendar = MarketCalendar.nyse() if stock else MarketCalendar.always_open()
        key = (entry.symbol, str(entry.timeframe), entry.rows, entry.end)
        report = self._gaps.get(key)
        if report is None:
            end = entry.end + timedelta(seconds=1)
            table = self.store.get_bars([entry.symbol], entry.timeframe, entry.start, end)
            found = table.get(entry.symbol)
            if found is None:
                report = GapReport(0, ())
            else:
                report = find_gaps(found, timeframe=entry.timeframe, calendar=calendar)
            if len(self._gaps) > 10_000:  # series rewritten many times: start afresh
                self._gaps.clear()
            self._gaps[key] = report
        return report, "NYSE sessions" if stock else "around the clock"

    def catalog(self, *, symbol: str | None = None) -> list[CatalogEntryView]:
        """Every (symbol, timeframe) held, with its range and size (coverage of ``symbol``)."""
        return [
            CatalogEntryView(
                symbol=e.symbol,
                asset_class=e.asset_class.value,
                timeframe=str(e.timeframe),
                start=e.start,
                end=e.end,
                rows=e.rows,
                bytes=e.bytes,
            )
            for e in self.store.catalog()
            if symbol is None or e.symbol == symbol
        ]

    def bars(
        self,
        symbol: str,
        *,
        timeframe: str = "1Min",
        start: datetime,
        end: datetime,
        limit: int = 5000,
    ) -> BarsView:
        """Bars of ``symbol`` with ``start <= time < end`` (the first ``limit``)."""
        if end <= start:
            raise ServiceError("bad_range", "end must be after start", status=400)
        if not _SYMBOL.fullmatch(symbol):
            raise ServiceError("bad_symbol", f"not a symbol: {symbol[:40]!r}", status=400)
        frame = _frame(timeframe)
        try:
            table = self.store.get_bars([symbol], frame, start, end).get(symbol)
        except (ValueError, OverflowError, OSError) as exc:
            raise ServiceError("bad_range", f"cannot read bars: {exc}", status=400) from None
        bars: list[BarView] = []
        if table is not None:
            columns = table.slice(0, limit).to_pydict()
            for i, ts in enumerate(columns["timestamp"]):
                bars.append(
                    BarView(
                        timestamp=ts if ts.tzinfo else ts.replace(tzinfo=UTC),
                        open=Decimal(str(columns["open"][i])),
                        high=Decimal(str(columns["high"][i])),
                        low=Decimal(str(columns["low"][i])),
                        close=Decimal(str(columns["close"][i])),
                        volume=Decimal(str(columns["volume"][i])),
                    )
                )
        return BarsView(symbol=symbol, timeframe=str(frame), bars=bars)

    async def fetch(self, spec: FetchSpec, *, caller: Caller) -> dict[str, int]:
        """Write bars from the source into the store; rows written per symbol."""
        if spec.end < spec.start:
            raise ServiceError("bad_range", "end must not be before start", status=400)
        frame = _frame(spec.timeframe)

        span = (
            datetime.combine(spec.start, time(), UTC),
            datetime.combine(spec.end, time.max, UTC),
        )
        if spec.source == "chain" and self.settings is None:
            raise ServiceError("no_chain", "this hub has no data sources configured", status=503)

        async def work() -> dict[str, int]:
            if spec.source == "chain":
                rows, _origins = await run_in_threadpool(
                    self._from_chain, spec.symbols, frame, span, lambda _s, _n: None
                )
                return rows
            return await run_in_threadpool(
                write_synthetic,
                self.store,
                symbols=spec.symbols,
                start=span[0],
                end=span[1],
                timeframe=frame,
                seed=spec.seed,
            )

        return await self.auditor.call(caller, "data.fetch", spec.model_dump(mode="json"), work)

    async def fetch_job(self, spec: FetchSpec, *, caller: Caller) -> JobView:
        """Fetch as a background job (``jobs`` events: progress per symbol written)."""
        if spec.end < spec.start:
            raise ServiceError("bad_range", "end must not be before start", status=400)
        frame = _frame(spec.timeframe)
        if self.jobs is None:
            raise ServiceError("no_jobs", "this hub runs no job workers", status=503)

        def run(
            spec: FetchSpec, progress: Callable[[float, str], None]
        ) -> tuple[None, dict[str, object]]:
            total = len(spec.symbols)
            done: list[str] = []
            progress(0.0, f"0 of {total} symbols")

            def on_symbol(symbol: str, rows: int) -> None:
                done.append(symbol)
                progress(
                    len(done) / total, f"{len(done)} of {total} symbols ({symbol}: {rows:,} bars)"
                )

            span = (
                datetime.combine(spec.start, time(), UTC),
                datetime.combine(spec.end, time.max, UTC),
            )
            if spec.source == "chain":
                rows, origins = self._from_chain(spec.symbols, frame, span, on_symbol)
                return None, {"source": spec.source, "rows": rows, "from": origins}
            written = write_synthetic(
                self.store,
                symbols=spec.symbols,
                start=span[0],
                end=span[1],
                timeframe=frame,
                seed=spec.seed,
                on_symbol=on_symbol,
            )
            return None, {"source": spec.source, "rows": dict(written)}

        if spec.source == "chain" and self.settings is None:
            raise ServiceError("no_chain", "this hub has no data sources configured", status=503)
        return await self.jobs.launch("fetch", spec, caller, run)

    def _from_chain(
        self,
        symbols: list[str],
        frame: Timeframe,
        span: tuple[datetime, datetime],
        on_symbol: Callable[[str, int], None],
    ) -> tuple[dict[str, int], dict[str, str]]:
        """Each symbol through the configured chain (which keeps remote answers in the
        local store); rows and the source that answered, per symbol."""
        assert self.settings is not None  # fetch_job checked
        chain = make_chain(self.settings)
        rows: dict[str, int] = {}
        origins: dict[str, str] = {}
        for symbol in symbols:
            found = chain.fetch([symbol], frame, *span)
            table = found.tables.get(symbol)
            rows[symbol] = table.num_rows if table is not None else 0
            origins[symbol] = found.origin.get(symbol, "-")
            on_symbol(symbol, rows[symbol])
        return rows, origins
