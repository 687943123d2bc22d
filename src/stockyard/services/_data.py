"""The Data service: what the local store holds, bars of a symbol, and filling it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from stockyard.core import Timeframe
from stockyard.data import ParquetStore, write_synthetic
from stockyard.services._access import Auditor, Caller
from stockyard.services._errors import ServiceError

__all__ = ["BarView", "BarsView", "CatalogEntryView", "DataService", "FetchSpec"]

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
    """Bars to write into the store from a source (``synthetic``: seeded, offline)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: Annotated[
        list[Annotated[str, Field(pattern=r"^[A-Z0-9./]{1,32}$")]],
        Field(min_length=1, max_length=50),
    ]
    start: date
    end: date
    timeframe: str = Field(default="1Min", max_length=16)
    source: Literal["synthetic"] = "synthetic"
    seed: int = Field(default=0, ge=0, le=2**31)


def _frame(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except ValueError as exc:
        raise ServiceError("bad_timeframe", str(exc), status=400) from None


class DataService:
    """Over one ``ParquetStore`` (the data directory)."""

    def __init__(self, store: ParquetStore, *, auditor: Auditor) -> None:
        self.store = store
        self.auditor = auditor

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

        async def work() -> dict[str, int]:
            return await run_in_threadpool(
                write_synthetic,
                self.store,
                symbols=spec.symbols,
                start=datetime.combine(spec.start, time(), UTC),
                end=datetime.combine(spec.end, time.max, UTC),
                timeframe=frame,
                seed=spec.seed,
            )

        return await self.auditor.call(caller, "data.fetch", spec.model_dump(mode="json"), work)
