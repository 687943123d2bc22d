"""Alpaca market data (or the local sandbox, which speaks the same REST protocol).

The adapter at the edge: the only module that imports alpaca-py, and the one place where
Alpaca's bar JSON becomes a ``BAR_SCHEMA`` table (``bars_from_alpaca_json``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from stockyard.config import AlpacaSettings
from stockyard.core import (
    BAR_COLUMNS,
    BAR_SCHEMA,
    AssetClass,
    Timeframe,
    TimeUnit,
    to_ns,
    validate_bar_table,
)
from stockyard.data._provenance import BarOrigin, with_origin
from stockyard.data._source import BarTables
from stockyard.data._time import table_ns
from stockyard.resilience import (
    InvalidDataError,
    PacedAdapter,
    RateLimiter,
    ValidationError,
    classify,
    rate_limiter_for,
)

if TYPE_CHECKING:
    from alpaca.data.historical.crypto import CryptoHistoricalDataClient
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.timeframe import TimeFrame

# alpaca-py's data package is imported when a source is made, not with this module: it loads
# pandas (~0.3 s), which the sandbox and the hub, importing ``stockyard.data``, never need.

__all__ = ["AlpacaSource", "bars_from_alpaca_json"]

# Alpaca's bar JSON, in BAR_COLUMNS order ("t" is RFC 3339 text, "n" and "vw" optional).
_WIRE_TYPES: dict[str, pa.DataType] = {
    "t": pa.string(),
    "o": pa.float64(),
    "h": pa.float64(),
    "l": pa.float64(),
    "c": pa.float64(),
    "v": pa.float64(),
    "n": pa.int64(),
    "vw": pa.float64(),
}
_WIRE = pa.schema(_WIRE_TYPES)
_UNITS: Mapping[TimeUnit, str] = {  # names of alpaca-py's TimeFrameUnit members
    TimeUnit.MINUTE: "Minute",
    TimeUnit.HOUR: "Hour",
    TimeUnit.DAY: "Day",
    TimeUnit.WEEK: "Week",
    TimeUnit.MONTH: "Month",
}
_SYMBOLS_PER_REQUEST = 100  # keeps the query string well under URL length limits


def bars_from_alpaca_json(rows: Sequence[Mapping[str, object]]) -> pa.Table:
    """Alpaca bar objects (``{"t", "o", "h", "l", "c", "v", "n", "vw"}``) as a bar table.

    Timestamps become UTC nanoseconds; missing ``n``/``vw`` become nulls. Raises
    ``ValueError`` when a bar is malformed (see ``validate_bar_table``).
    """
    if not rows:
        return BAR_SCHEMA.empty_table()
    # An explicit schema: optional keys ("n", "vw") may be missing from any row.
    wire = pa.Table.from_pylist(list(rows), schema=_WIRE)
    if wire.column("t").null_count:
        raise ValueError("an alpaca bar carries no 't' (timestamp) field")
    stamps = wire.column("t").cast(BAR_SCHEMA.field("timestamp").type)
    table = wire.set_column(0, "t", stamps).rename_columns(list(BAR_COLUMNS))
    table = table.take(pc.sort_indices(table, [("timestamp", "ascending")]))
    return validate_bar_table(table)


class AlpacaSource:
    """A ``HistoricalSource`` over Alpaca's market-data REST API, through alpaca-py.

    Stock symbols go to ``/v2/stocks/bars`` (with ``feed``), crypto symbols (``BTC/USD``)
    to ``/v1beta3/crypto/us/bars``. Every page is gathered (alpaca-py follows
    ``next_page_token`` when no ``limit`` is given). Failures are raised as classified
    ``StockyardError``s: 401/403 fatal, 429/5xx and connection errors retryable.
    alpaca-py's own sleep-and-retry is turned off: retry policy lives in
    ``stockyard.resilience``. With ``requests_per_minute`` every request takes a slot of
    the key's one limiter in the process (``rate_limiter_for``, shared with the broker),
    and a 429 holds every client of the key until the reset Alpaca names;
    ``rate_limiter`` injects a limiter instead (tests: a clock of their own).

    Stock bars are asked for with Alpaca's ``adjustment`` (``all``: split- and
    dividend-adjusted, the default here for research; ``raw``, ``split``, ``dividend``), and
    every table is tagged with its ``BarOrigin`` so a store keeps them apart.
    """

    def __init__(
        self,
        *,
        key_id: str,
        secret_key: str,
        url: str | None = None,
        feed: str = "iex",
        timeout: float = 30.0,
        name: str = "alpaca",
        requests_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
        adjustment: str = "all",
        origin: str = "alpaca",
    ) -> None:
        with warnings.catch_warnings():
            # alpaca-py (0.44) imports websockets.legacy, which websockets >= 14 deprecates on
            # import; nothing we can change, and it is not about code we call.
            warnings.filterwarnings(
                "ignore", "websockets.legacy is deprecated", DeprecationWarning, "websockets.legacy"
            )
            from alpaca.data.enums import Adjustment, DataFeed  # noqa: PLC0415
            from alpaca.data.historical.crypto import (  # noqa: PLC0415
                CryptoHistoricalDataClient,
            )
            from alpaca.data.historical.stock import StockHistoricalDataClient  # noqa: PLC0415

        self._name = name
        self._feed = DataFeed(feed)
        self._adjustment = Adjustment(adjustment)
        self._stock_origin = BarOrigin(origin, adjustment, f"{feed} feed")
        self._crypto_origin = BarOrigin(origin, "none", "crypto")
        override = url.rstrip("/") if url else None
        self._stocks = StockHistoricalDataClient(
            api_key=key_id, secret_key=secret_key, raw_data=True, url_override=override
        )
        self._crypto = CryptoHistoricalDataClient(
            api_key=key_id, secret_key=secret_key, raw_data=True, url_override=override
        )
        limiter = rate_limiter
        if limiter is None and requests_per_minute is not None:
            limiter = rate_limiter_for(key_id, per_minute=requests_per_minute)
        self._limiter = limiter
        for client in (self._stocks, self._crypto):
            _harden(client, timeout, limiter)

    @classmethod
    def from_settings(
        cls, settings: AlpacaSettings, *, timeout: float = 30.0, adjustment: str = "all"
    ) -> AlpacaSource:
        """Build from ``settings.alpaca``: ``data_url`` (else ``base_url``), keys, feed;
        stock bars adjusted as ``adjustment`` says.

        Bars from the local sandbox are tagged ``sandbox``, not ``alpaca``. Without keys, only
        the local sandbox is allowed: it is sent the fixed pair
        ``stockyard-sandbox``, which a sandbox started with those keys accepts (others 401).
        """
        key = settings.key_id.get_secret_value() if settings.key_id else ""
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        if not (key and secret):
            if not settings.is_sandbox:
                raise ValidationError(
                    "alpaca.key_id and alpaca.secret_key are required for "
                    f"{settings.base_url} (set APCA_API_KEY_ID and APCA_API_SECRET_KEY)"
                )
            key, secret = "stockyard-sandbox", "stockyard-sandbox"
        return cls(
            key_id=key,
            secret_key=secret,
            url=settings.data_url or settings.base_url,
            feed=settings.feed,
            timeout=timeout,
            requests_per_minute=settings.requests_per_minute,
            adjustment=adjustment,
            # The local sandbox speaks Alpaca's protocol over replayed or synthetic bars: its
            # answers are never called Alpaca's, and never mixed with them in a store.
            origin="sandbox" if settings.is_sandbox else "alpaca",
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The key's pace (shared with every client of the key in this process), or None."""
        return self._limiter

    @property
    def adjustment(self) -> str:
        """How stock bars are adjusted (Alpaca's ``adjustment``)."""
        return str(self._adjustment.value)

    def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> BarTables:
        """Bars with ``start <= timestamp < end`` (Alpaca's ``end`` is inclusive; we trim)."""
        lo, hi = to_ns(start, name="start"), to_ns(end, name="end")
        out: dict[str, pa.Table] = {}
        if hi <= lo or not symbols:
            return out
        from alpaca.data.requests import CryptoBarsRequest, StockBarsRequest  # noqa: PLC0415

        alpaca_tf = _alpaca_timeframe(timeframe)
        stocks = [s for s in symbols if AssetClass.of_symbol(s) is AssetClass.STOCK]
        crypto = [s for s in symbols if AssetClass.of_symbol(s) is AssetClass.CRYPTO]
        for batch in _batches(stocks):
            request = StockBarsRequest(
                symbol_or_symbols=batch,
                timeframe=alpaca_tf,
                start=start,
                end=end,
                feed=self._feed,
                adjustment=self._adjustment,
            )
            raw = _call(partial(self._stocks.get_stock_bars, request))
            out.update(_tables(raw, lo, hi, self._stock_origin))
        for batch in _batches(crypto):
            request_c = CryptoBarsRequest(
                symbol_or_symbols=batch, timeframe=alpaca_tf, start=start, end=end
            )
            raw = _call(partial(self._crypto.get_crypto_bars, request_c))
            out.update(_tables(raw, lo, hi, self._crypto_origin))
        return out


def _call(fetch: Callable[[], object]) -> object:
    try:
        return fetch()
    except Exception as exc:
        raise classify(exc) from exc


def _tables(raw: object, lo: int, hi: int, origin: BarOrigin) -> dict[str, pa.Table]:
    if not isinstance(raw, Mapping):
        raise InvalidDataError(f"alpaca answered {type(raw).__name__}, expected bars by symbol")
    out: dict[str, pa.Table] = {}
    for symbol, rows in raw.items():
        if not isinstance(rows, list) or not rows:
            continue
        try:
            table = bars_from_alpaca_json(rows)
        except (ValueError, pa.ArrowInvalid) as exc:
            raise InvalidDataError(
                f"alpaca bars for {symbol} are malformed: {exc}", context={"symbol": symbol}
            ) from exc
        ns = table_ns(table)
        table = table.filter((ns >= lo) & (ns < hi))
        if table.num_rows:
            out[str(symbol)] = with_origin(table, origin)
    return out


def _alpaca_timeframe(timeframe: Timeframe) -> TimeFrame:
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit  # noqa: PLC0415

    try:
        return TimeFrame(timeframe.amount, TimeFrameUnit[_UNITS[timeframe.unit]])
    except ValueError as exc:
        raise ValidationError(f"Alpaca does not serve {timeframe} bars: {exc}") from exc


def _batches(symbols: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(symbols), _SYMBOLS_PER_REQUEST):
        yield list(symbols[i : i + _SYMBOLS_PER_REQUEST])


def _harden(
    client: StockHistoricalDataClient | CryptoHistoricalDataClient,
    timeout: float,
    limiter: RateLimiter | None,
) -> None:
    # alpaca-py offers neither knob publicly: its REST client retries 429/504 with a blocking
    # 3 s sleep, and sends without a timeout. Retry belongs to stockyard.resilience; the pace
    # is the key's, shared with every other client of the key in this process.
    client._retry = 0
    adapter = PacedAdapter(limiter, timeout_s=timeout)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)
