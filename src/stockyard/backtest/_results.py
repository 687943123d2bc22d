"""What a backtest produced: trades, orders, the equity curve, positions over time, prices.

One value for both paths: the vectorised research path fills it today, the event engine
fills the same fields. Floats throughout: this is analytics, never a cash balance that
reaches a broker. Timestamps are UTC nanoseconds (``int``/``int64``); the JSON form spells
them as ISO 8601 (``2024-01-02T14:30:00Z``) and reads them back to the same nanosecond.
``to_json`` is deterministic: the same value gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson

from stockyard.core import OrderSide, OrderStatus, PositionSide
from stockyard.data import Provenance, describe_all

__all__ = [
    "RESULTS_FORMAT",
    "EquityCurve",
    "JsonScalar",
    "OrderRecord",
    "PriceSeries",
    "Results",
    "Trade",
    "iso_from_ns",
    "iso_list",
    "ns_from_iso",
    "ns_list",
]

RESULTS_FORMAT = "stockyard.results/1"
_EPOCH = datetime(1970, 1, 1)
JsonScalar = str | int | float | bool | None


def iso_from_ns(ns: int) -> str:
    """UTC nanoseconds as ISO 8601 with a ``Z``; sub-second digits only when present."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    # ``iso_list``'s text for one stamp, without an array per call (a run formats one per
    # order and fill)
    text = (_EPOCH + timedelta(seconds=seconds)).isoformat()
    return f"{text}.{fraction:09d}Z" if fraction else f"{text}Z"


def iso_list(ns: np.ndarray) -> list[str]:
    """Many UTC nanosecond stamps as ISO 8601 strings (whole seconds when all are)."""
    values = np.asarray(ns, dtype=np.int64)
    unit: Literal["s", "ns"] = "s" if bool((values % 1_000_000_000 == 0).all()) else "ns"
    stamps: npt.NDArray[np.datetime64] = values.view("datetime64[ns]")
    text = np.datetime_as_string(stamps, unit=unit)
    return [f"{item}Z" for item in text.tolist()]


def ns_from_iso(text: object) -> int:
    """``iso_from_ns``'s output (or any ISO 8601 UTC stamp ending in ``Z``) back to ns."""
    return int(ns_list([text])[0])


def ns_list(texts: object) -> np.ndarray:
    """ISO 8601 UTC stamps (``…Z``) to an ``int64`` array of nanoseconds."""
    if not isinstance(texts, list | tuple):
        raise ValueError("timestamps must be a list of ISO 8601 strings")
    stripped: list[str] = []
    for text in texts:
        if not isinstance(text, str) or not text.endswith("Z"):
            raise ValueError(f"timestamp {text!r} is not ISO 8601 UTC (ending in Z)")
        stripped.append(text[:-1])
    try:
        return np.array(stripped, dtype="datetime64[ns]").view(np.int64)
    except ValueError as exc:
        raise ValueError(f"bad timestamp: {exc}") from None


def array_from_json(values: object, name: str) -> np.ndarray:
    """A JSON list of numbers as a float64 array (``null`` is refused)."""
    if not isinstance(values, list | tuple):
        raise ValueError(f"{name} must be a list of numbers")
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of numbers") from None


def check_scalars(values: Mapping[str, object], name: str) -> dict[str, JsonScalar]:
    """A copy of ``values`` after checking every key is a string and every value a JSON
    scalar (finite when a float)."""
    out: dict[str, JsonScalar] = {}
    for key, value in values.items():
        if not isinstance(key, str):
            raise ValueError(f"{name} keys must be strings, got {key!r}")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(f"{name}[{key!r}] must be a string, number, bool or null")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name}[{key!r}] must be finite")
        out[key] = value
    return out


def _frozen_array(values: object, dtype: type, name: str) -> np.ndarray:
    array: np.ndarray = np.array(values, dtype=dtype, copy=True)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    array.setflags(write=False)
    return array


def _check_times(ns: np.ndarray, name: str) -> None:
    if ns.size > 1 and bool((np.diff(ns) <= 0).any()):
        row = int(np.argmax(np.diff(ns) <= 0)) + 1
        raise ValueError(f"{name} timestamps must be strictly increasing; row {row} is not")


def _check_finite(values: np.ndarray, name: str) -> None:
    if not bool(np.isfinite(values).all()):
        raise ValueError(f"{name} must be finite; row {int(np.argmax(~np.isfinite(values)))}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One closed round trip. ``entry_time``/``exit_time`` are the fill times of the opening
    and closing orders (UTC ns); ``fees`` are both legs' fees; ``pnl`` is net of them."""

    symbol: str
    side: PositionSide
    qty: float
    entry_time: int
    entry_price: float
    exit_time: int
    exit_price: float
    fees: float
    pnl: float

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ValueError("trade symbol must not be blank")
        for name in ("qty", "entry_price", "exit_price", "fees", "pnl"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"trade {name} must be finite")
        if self.qty <= 0 or self.entry_price <= 0 or self.exit_price <= 0:
            raise ValueError("trade qty and prices must be > 0")
        if self.exit_time < self.entry_time:
            raise ValueError("trade exit_time must not be before entry_time")

    @property
    def return_(self) -> float:
        """Net P&L as a fraction of the entry notional."""
        return self.pnl / (self.entry_price * self.qty)

    @property
    def fill_key(self) -> tuple[str, str, float, int, float, int, float]:
        """What two engines must agree on: symbol, side, qty, entry/exit time and price."""
        return (
            self.symbol,
            self.side.value,
            self.qty,
            self.entry_time,
            self.entry_price,
            self.exit_time,
            self.exit_price,
        )

    def to_dict(self) -> dict[str, JsonScalar]:
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "entry_time": iso_from_ns(self.entry_time),
            "entry_price": self.entry_price,
            "exit_time": iso_from_ns(self.exit_time),
            "exit_price": self.exit_price,
            "fees": self.fees,
            "pnl": self.pnl,
            "return": self.return_,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trade:
        return cls(
            symbol=str(data["symbol"]),
            side=PositionSide(data["side"]),
            qty=float(data["qty"]),
            entry_time=ns_from_iso(data["entry_time"]),
            entry_price=float(data["entry_price"]),
            exit_time=ns_from_iso(data["exit_time"]),
            exit_price=float(data["exit_price"]),
            fees=float(data["fees"]),
            pnl=float(data["pnl"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """One order as the run saw it: when it was submitted (the bar or event that decided
    it), and when, at what price and with what fee it filled (``None`` if it did not)."""

    symbol: str
    side: OrderSide
    qty: float
    submitted_at: int
    status: OrderStatus
    filled_at: int | None = None
    fill_price: float | None = None
    fee: float = 0.0
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ValueError("order symbol must not be blank")
        if not (math.isfinite(self.qty) and self.qty > 0):
            raise ValueError("order qty must be finite and > 0")
        if (self.filled_at is None) != (self.fill_price is None):
            raise ValueError("order filled_at and fill_price go together")
        if self.fill_price is not None and not (
            math.isfinite(self.fill_price) and self.fill_price > 0
        ):
            raise ValueError("order fill_price must be finite and > 0")
        if not math.isfinite(self.fee):
            raise ValueError("order fee must be finite")

    def to_dict(self) -> dict[str, JsonScalar]:
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "submitted_at": iso_from_ns(self.submitted_at),
            "status": self.status.value,
            "filled_at": None if self.filled_at is None else iso_from_ns(self.filled_at),
            "fill_price": self.fill_price,
            "fee": self.fee,
            "client_order_id": self.client_order_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrderRecord:
        filled = data.get("filled_at")
        price = data.get("fill_price")
        coid = data.get("client_order_id")
        return cls(
            symbol=str(data["symbol"]),
            side=OrderSide(data["side"]),
            qty=float(data["qty"]),
            submitted_at=ns_from_iso(data["submitted_at"]),
            status=OrderStatus(data["status"]),
            filled_at=None if filled is None else ns_from_iso(filled),
            fill_price=None if price is None else float(price),
            fee=float(data.get("fee", 0.0)),
            client_order_id=None if coid is None else str(coid),
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EquityCurve:
    """Account value at each bar's close: ``equity = cash + Σ position × close``.
    ``positions`` maps each symbol to its signed quantity held over that bar."""

    timestamps: np.ndarray
    equity: np.ndarray
    cash: np.ndarray
    positions: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ts = _frozen_array(self.timestamps, np.int64, "equity timestamps")
        object.__setattr__(self, "timestamps", ts)
        _check_times(ts, "equity")
        for name in ("equity", "cash"):
            values = _frozen_array(getattr(self, name), np.float64, name)
            if values.shape != ts.shape:
                raise ValueError(f"{name} must have one value per timestamp")
            _check_finite(values, name)
            object.__setattr__(self, name, values)
        held: dict[str, np.ndarray] = {}
        for symbol, qty in self.positions.items():
            values = _frozen_array(qty, np.float64, f"positions[{symbol}]")
            if values.shape != ts.shape:
                raise ValueError(f"positions[{symbol}] must have one value per timestamp")
            _check_finite(values, f"positions[{symbol}]")
            held[symbol] = values
        object.__setattr__(self, "positions", MappingProxyType(held))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EquityCurve):
            return NotImplemented
        return (
            np.array_equal(self.timestamps, other.timestamps)
            and np.array_equal(self.equity, other.equity)
            and np.array_equal(self.cash, other.cash)
            and self.positions.keys() == other.positions.keys()
            and all(np.array_equal(v, other.positions[k]) for k, v in self.positions.items())
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays: equal by value, not hashable

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def to_dict(self) -> dict[str, object]:
        return {
            "timestamp": iso_list(self.timestamps),
            "equity": self.equity,
            "cash": self.cash,
            "positions": dict(self.positions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EquityCurve:
        return cls(
            timestamps=ns_list(data["timestamp"]),
            equity=array_from_json(data["equity"], "equity"),
            cash=array_from_json(data["cash"], "cash"),
            positions={
                str(k): array_from_json(v, f"positions[{k}]")
                for k, v in data.get("positions", {}).items()
            },
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PriceSeries:
    """Opens and closes of one symbol (the fills and marks a run used), or a benchmark."""

    symbol: str
    timestamps: np.ndarray
    open: np.ndarray
    close: np.ndarray

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ValueError("price series symbol must not be blank")
        ts = _frozen_array(self.timestamps, np.int64, "price timestamps")
        object.__setattr__(self, "timestamps", ts)
        _check_times(ts, f"prices[{self.symbol}]")
        for name in ("open", "close"):
            values = _frozen_array(getattr(self, name), np.float64, name)
            if values.shape != ts.shape:
                raise ValueError(f"prices[{self.symbol}].{name} needs one value per timestamp")
            if not bool((np.isfinite(values) & (values > 0)).all()):
                raise ValueError(f"prices[{self.symbol}].{name} must be finite and > 0")
            object.__setattr__(self, name, values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PriceSeries):
            return NotImplemented
        return (
            self.symbol == other.symbol
            and np.array_equal(self.timestamps, other.timestamps)
            and np.array_equal(self.open, other.open)
            and np.array_equal(self.close, other.close)
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays: equal by value, not hashable

    def to_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "timestamp": iso_list(self.timestamps),
            "open": self.open,
            "close": self.close,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceSeries:
        return cls(
            symbol=str(data["symbol"]),
            timestamps=ns_list(data["timestamp"]),
            open=array_from_json(data["open"], "open"),
            close=array_from_json(data["close"], "close"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Results:
    """A backtest run: what was traded (``trades``, ``orders``), how the account moved
    (``equity``), the prices it traded on and the buy-and-hold ``benchmark``.

    ``params`` are the strategy's parameters and ``meta`` anything else worth keeping
    (engine, seed, the slippage and fee models): both map names to JSON scalars, in the
    order given. ``provenance`` says, per symbol, where its bars came from and how they are
    adjusted (``data`` in the JSON form).
    """

    strategy: str
    timeframe: str
    starting_cash: float
    equity: EquityCurve
    trades: tuple[Trade, ...] = ()
    orders: tuple[OrderRecord, ...] = ()
    prices: tuple[PriceSeries, ...] = ()
    benchmark: PriceSeries | None = None
    params: Mapping[str, JsonScalar] = field(default_factory=dict)
    meta: Mapping[str, JsonScalar] = field(default_factory=dict)
    provenance: Mapping[str, Provenance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.strategy:
            raise ValueError("results need a strategy name")
        if not (math.isfinite(self.starting_cash) and self.starting_cash > 0):
            raise ValueError("starting_cash must be finite and > 0")
        if len(self.equity) == 0:
            raise ValueError("the equity curve is empty")
        object.__setattr__(self, "trades", tuple(self.trades))
        object.__setattr__(self, "orders", tuple(self.orders))
        object.__setattr__(self, "prices", tuple(self.prices))
        symbols = [p.symbol for p in self.prices]
        if len(set(symbols)) != len(symbols):
            raise ValueError("prices hold one series per symbol")
        object.__setattr__(self, "params", MappingProxyType(check_scalars(self.params, "params")))
        object.__setattr__(self, "meta", MappingProxyType(check_scalars(self.meta, "meta")))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))

    @property
    def synthetic(self) -> bool:
        """Whether any symbol's bars were made by the synthetic model."""
        return any(p.synthetic for p in self.provenance.values())

    @property
    def data_source(self) -> str:
        """Where the bars came from, in words ("not recorded" for older runs)."""
        return describe_all(self.provenance) if self.provenance else "not recorded"

    def price(self, symbol: str) -> PriceSeries:
        """The price series of ``symbol``; ``KeyError`` if the run holds none."""
        for series in self.prices:
            if series.symbol == symbol:
                return series
        raise KeyError(f"no prices for {symbol!r} in these results")

    def to_dict(self) -> dict[str, object]:
        return {
            "format": RESULTS_FORMAT,
            "strategy": self.strategy,
            "timeframe": self.timeframe,
            "params": dict(self.params),
            "meta": dict(self.meta),
            "data": {symbol: p.to_dict() for symbol, p in self.provenance.items()},
            "starting_cash": self.starting_cash,
            "trades": [t.to_dict() for t in self.trades],
            "orders": [o.to_dict() for o in self.orders],
            "equity": self.equity.to_dict(),
            "prices": [p.to_dict() for p in self.prices],
            "benchmark": None if self.benchmark is None else self.benchmark.to_dict(),
        }

    def to_json(self, *, extra: Mapping[str, object] | None = None, indent: bool = False) -> bytes:
        """UTF-8 JSON; ``extra`` sections (e.g. ``metrics``) go first. Deterministic."""
        body = {**(extra or {}), **self.to_dict()}
        option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
        return orjson.dumps(body, option=option)

    @classmethod
    def from_json(cls, data: bytes | str) -> Results:
        """Read ``to_json``'s output back (extra sections are ignored). ``ValueError`` on a
        document that is not results or has a bad field."""
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(parsed, dict) or parsed.get("format") != RESULTS_FORMAT:
            raise ValueError(f"not a results document (expected format {RESULTS_FORMAT!r})")
        return cls.from_dict(parsed)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Results:
        try:
            bench = data.get("benchmark")
            return cls(
                strategy=str(data["strategy"]),
                timeframe=str(data["timeframe"]),
                starting_cash=float(data["starting_cash"]),
                equity=EquityCurve.from_dict(data["equity"]),
                trades=tuple(Trade.from_dict(t) for t in data.get("trades", ())),
                orders=tuple(OrderRecord.from_dict(o) for o in data.get("orders", ())),
                prices=tuple(PriceSeries.from_dict(p) for p in data.get("prices", ())),
                benchmark=None if bench is None else PriceSeries.from_dict(bench),
                params=dict(data.get("params", {})),
                meta=dict(data.get("meta", {})),
                provenance={
                    str(k): Provenance.from_dict(v) for k, v in (data.get("data") or {}).items()
                },
            )
        except KeyError as exc:
            raise ValueError(f"results document is missing {exc.args[0]!r}") from None
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"results document is malformed: {exc}") from None
