"""The fallback chain: local store, then S3, then Alpaca; remote answers are kept locally.

For each symbol the first source that *has the range* wins. An answer has the range
``[start, end)`` when no stretch of *market time* in it longer than a tolerance is without
bars. Market time is what the asset class trades: for stocks, NYSE regular sessions
(weekends, holidays and early closes excluded, from the exchange calendar); for crypto,
wall-clock time. Each bar covers ``[t, t + timeframe)``; the end is clamped to "now".

A source that fails is classified, logged once, recorded, and skipped. When no source
has the whole range, the fullest partial answer is served. When a symbol got no bars and a
source failed on the way, the empty answer cannot be trusted: ``DataUnavailableError``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

import numpy as np
import pyarrow as pa

from stockyard.config import ConfigError, Settings
from stockyard.core import AssetClass, Clock, Timeframe, TimeUnit, WallClock, to_ns
from stockyard.data._alpaca import AlpacaSource
from stockyard.data._calendar import nyse_sessions
from stockyard.data._parquet import ParquetStore
from stockyard.data._s3 import make_s3_store
from stockyard.data._source import BarTables, HistoricalSource
from stockyard.data._synthetic import SyntheticSource
from stockyard.data._time import table_ns
from stockyard.obs import get_logger
from stockyard.resilience import DataUnavailableError, ErrorRegistry, classify

__all__ = ["DEFAULT_GAP_TOLERANCE", "ChainResult", "SourceChain", "largest_gap", "make_chain"]

_COMPONENT = "data_pipeline"


# -- "has the range" -------------------------------------------------------------------------

# Longest market-time stretch without bars a complete source may show. Stocks: an hour of
# regular-session time (an illiquid name on IEX can go quiet that long; a missing session,
# 6.5 h, or a range fetched only up to mid-day cannot hide under it). Crypto trades 24/7, but
# thin pairs print nothing for hours.
DEFAULT_GAP_TOLERANCE: Mapping[AssetClass, timedelta] = MappingProxyType(
    {AssetClass.STOCK: timedelta(hours=1), AssetClass.CRYPTO: timedelta(hours=3)}
)

_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class _SessionClock:
    """Cumulative NYSE regular-session time, to measure gaps in trading time."""

    open: np.ndarray
    close: np.ndarray
    before: np.ndarray  # session time elapsed before each session opens

    def elapsed(self, ns: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.open, ns, side="right") - 1
        safe = index.clip(min=0)
        inside = np.clip(ns - self.open[safe], 0, self.close[safe] - self.open[safe])
        return np.where(index >= 0, self.before[safe] + inside, 0)


_clock: _SessionClock | None = None


def _session_clock() -> _SessionClock:
    global _clock  # noqa: PLW0603 -- built once from the cached calendar; immutable after
    if _clock is None:
        sessions = nyse_sessions()
        lengths = sessions.close - sessions.open
        before = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        _clock = _SessionClock(sessions.open, sessions.close, before)
    return _clock


def market_time(asset_class: AssetClass, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Market time (ns) in each ``[lo, hi)``: NYSE session time for stocks, wall time else."""
    if asset_class is AssetClass.STOCK:
        clock = _session_clock()
        lo, hi = clock.elapsed(lo), clock.elapsed(hi)
    gaps: np.ndarray = np.maximum(hi - lo, 0)
    return gaps


def bar_length_ns(timeframe: Timeframe) -> int:
    """How long one bar covers; a month counts as its longest (31 days)."""
    if timeframe.unit is TimeUnit.MONTH:
        return timeframe.amount * 31 * _DAY_NS
    return timeframe.seconds * 10**9


def largest_gap(
    table: pa.Table,
    *,
    asset_class: AssetClass,
    timeframe: Timeframe,
    start_ns: int,
    end_ns: int,
) -> timedelta:
    """The longest market-time stretch of ``[start_ns, end_ns)`` that no bar covers."""
    if end_ns <= start_ns:
        return timedelta(0)
    if table.num_rows == 0:
        lo, hi = np.array([start_ns]), np.array([end_ns])
    else:
        ns = table_ns(table)
        ns = ns[(ns >= start_ns) & (ns < end_ns)]
        covered_to = ns + bar_length_ns(timeframe)
        lo = np.concatenate([[start_ns], covered_to])
        hi = np.concatenate([ns, [end_ns]])
    gaps = market_time(asset_class, lo, hi)
    return timedelta(microseconds=int(gaps.max()) // 1000)


@dataclass(frozen=True, slots=True)
class ChainResult:
    """What one chain read found: tables, where each came from, and what each source said.

    ``origin[symbol]`` names the source that served it; ``complete[symbol]`` says whether
    that answer has the whole range; ``reasons[symbol]`` lists ``(source, why it was
    passed over)`` for the sources tried before it (or all of them).
    """

    tables: dict[str, pa.Table]
    origin: dict[str, str]
    complete: dict[str, bool]
    reasons: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class SourceChain:
    """A ``HistoricalSource`` that asks its sources in priority order, symbol by symbol.

    ``local`` is the store remote answers are written to (write-through), for sources named
    in ``write_through``; it is usually also the first source. ``gap_tolerance`` sets, per
    asset class, the longest market-time stretch without bars a complete answer may show.
    """

    def __init__(
        self,
        sources: Sequence[HistoricalSource],
        *,
        local: ParquetStore | None = None,
        write_through: Collection[str] = ("s3", "alpaca"),
        gap_tolerance: Mapping[AssetClass, timedelta] = DEFAULT_GAP_TOLERANCE,
        errors: ErrorRegistry | None = None,
        clock: Clock | None = None,
        name: str = "chain",
    ) -> None:
        if not sources:
            raise ValueError("a source chain needs at least one source")
        self._sources = tuple(sources)
        self._local = local
        self._write_through = frozenset(write_through)
        self._tolerance = dict(gap_tolerance)
        self._errors = errors
        self._clock = clock if clock is not None else WallClock()
        self._name = name
        self._log = get_logger(_COMPONENT)

    @property
    def name(self) -> str:
        return self._name

    @property
    def sources(self) -> tuple[HistoricalSource, ...]:
        return self._sources

    def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> BarTables:
        """Bars with ``start <= timestamp < end``, each symbol from the first source that has
        the range. Raises ``DataUnavailableError`` as described in the module docstring."""
        return self.fetch(symbols, timeframe, start, end).tables

    def fetch(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> ChainResult:
        """Like ``get_bars``, with the provenance of each answer."""
        lo, hi = to_ns(start, name="start"), to_ns(end, name="end")
        judge_hi = min(hi, to_ns(self._clock.now(), name="now"))
        pending = list(dict.fromkeys(symbols))
        reasons: dict[str, list[tuple[str, str]]] = {s: [] for s in pending}
        failed: dict[str, int] = dict.fromkeys(pending, 0)
        chosen: dict[str, tuple[pa.Table, HistoricalSource, bool]] = {}
        partial: dict[str, tuple[pa.Table, HistoricalSource]] = {}
        for source in self._sources:
            if not pending or hi <= lo:
                break
            try:
                tables = source.get_bars(pending, timeframe, start, end)
            except Exception as exc:
                self._failed(source, exc, pending, reasons, failed)
                continue
            still: list[str] = []
            for symbol in pending:
                table = tables.get(symbol)
                if table is None or table.num_rows == 0:
                    reasons[symbol].append((source.name, "no bars in the range"))
                    still.append(symbol)
                    continue
                asset = AssetClass.of_symbol(symbol)
                gap = largest_gap(
                    table, asset_class=asset, timeframe=timeframe, start_ns=lo, end_ns=judge_hi
                )
                if gap <= self._allowed_gap(asset, timeframe):
                    chosen[symbol] = (table, source, True)
                    continue
                reasons[symbol].append((source.name, f"incomplete: {gap} of market time missing"))
                best = partial.get(symbol)
                if best is None or table.num_rows > best[0].num_rows:
                    partial[symbol] = (table, source)
                still.append(symbol)
            pending = still
        unavailable = []
        for symbol in pending:
            if symbol in partial:
                table, source = partial[symbol]
                chosen[symbol] = (table, source, False)
                self._log.warning(
                    "serving a partial range",
                    symbol=symbol,
                    source=source.name,
                    rows=table.num_rows,
                    reasons=_said(reasons[symbol]),
                )
            elif failed[symbol]:
                unavailable.append(symbol)
        for symbol, (table, source, _complete) in chosen.items():
            self._keep(symbol, timeframe, table, source)
        if unavailable:
            raise self._unavailable(unavailable, timeframe, start, end, reasons)
        return ChainResult(
            tables={s: chosen[s][0] for s in symbols if s in chosen},
            origin={s: chosen[s][1].name for s in symbols if s in chosen},
            complete={s: chosen[s][2] for s in symbols if s in chosen},
            reasons=reasons,
        )

    def _allowed_gap(self, asset: AssetClass, timeframe: Timeframe) -> timedelta:
        tolerance = self._tolerance.get(asset, DEFAULT_GAP_TOLERANCE[asset])
        return max(tolerance, timedelta(microseconds=bar_length_ns(timeframe) // 1000))

    def _failed(
        self,
        source: HistoricalSource,
        exc: Exception,
        pending: Sequence[str],
        reasons: dict[str, list[tuple[str, str]]],
        failed: dict[str, int],
    ) -> None:
        error = classify(exc)
        if self._errors is not None:
            self._errors.record(exc, component=_COMPONENT)
        self._log.warning(
            "data source failed; trying the next",
            source=source.name,
            symbols=list(pending),
            category=error.category.value,
            retryable=error.retryable,
            reason=error.message,
        )
        for symbol in pending:
            reasons[symbol].append((source.name, f"failed: {error.message}"))
            failed[symbol] += 1

    def _keep(
        self, symbol: str, timeframe: Timeframe, table: pa.Table, source: HistoricalSource
    ) -> None:
        """Write a remote answer to the local store; a failure here never fails the read."""
        if self._local is None or source is self._local:
            return
        if source.name not in self._write_through:
            return
        try:
            self._local.write(symbol, timeframe, table)
        except Exception as exc:
            error = classify(exc)
            if self._errors is not None:
                self._errors.record(exc, component=_COMPONENT)
            self._log.warning(
                "could not keep bars in the local store",
                symbol=symbol,
                source=source.name,
                reason=error.message,
            )

    def _unavailable(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
        reasons: Mapping[str, list[tuple[str, str]]],
    ) -> DataUnavailableError:
        lines = "; ".join(f"{s}: {_said(reasons[s])}" for s in symbols)
        return DataUnavailableError(
            f"no source could provide {timeframe} bars for {', '.join(symbols)} "
            f"in [{start.isoformat()}, {end.isoformat()}) — {lines}",
            context={
                "symbols": list(symbols),
                "timeframe": str(timeframe),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "reasons": {s: list(reasons[s]) for s in symbols},
            },
        )


def make_chain(
    settings: Settings,
    *,
    errors: ErrorRegistry | None = None,
    names: Sequence[str] | None = None,
    adjustment: str = "all",
) -> SourceChain:
    """The chain ``names`` (default ``settings.data.sources``) names, in that order.

    ``local`` is the Parquet store under ``data.dir`` (and the write-through target when
    ``settings.data.sources`` lists it); ``s3`` is skipped unless ``data.s3.bucket`` is set;
    ``alpaca`` is skipped without keys unless ``alpaca.base_url`` is the local sandbox, and
    asks for stock bars adjusted as ``adjustment`` says (Alpaca's values; ``all`` default).
    """
    directory = settings.data.dir if settings.data.dir is not None else settings.home / "data"
    local = ParquetStore(directory) if "local" in settings.data.sources else None
    log = get_logger(_COMPONENT)
    sources: list[HistoricalSource] = []
    for name in settings.data.sources if names is None else names:
        if name == "local" and local is not None:
            sources.append(local)
        elif name == "s3":
            if settings.data.s3.configured:
                sources.append(make_s3_store(settings.data.s3))
            else:
                log.info("s3 source skipped: data.s3.bucket is not set")
        elif name == "alpaca":
            alpaca = settings.alpaca
            if (alpaca.key_id and alpaca.secret_key) or alpaca.is_sandbox:
                sources.append(AlpacaSource.from_settings(alpaca, adjustment=adjustment))
            else:
                log.info("alpaca source skipped: no APCA_API_KEY_ID / APCA_API_SECRET_KEY")
        elif name == "synthetic":
            sources.append(SyntheticSource())
    if not sources:
        raise ConfigError(
            f"data.sources = {','.join(settings.data.sources if names is None else names)} "
            "leaves no usable source "
            "(S3 needs data.s3.bucket; Alpaca needs keys)"
        )
    return SourceChain(sources, local=local, errors=errors)


def _said(reasons: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{name} {why}" for name, why in reasons) or "no source was asked"
