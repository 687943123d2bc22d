"""Values the exchange hands out: assets, trade updates, per-order results, id factories."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stockyard.core import AssetClass, Order

__all__ = [
    "Asset",
    "CancelResult",
    "CloseResult",
    "TradeEvent",
    "TradeUpdate",
    "sequential_ids",
    "uuid4_ids",
]

_ASSET_NAMESPACE = uuid.UUID("6f1c3a52-5b0e-4a7e-9d1e-51a2d0c0ffee")


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """A tradable instrument and the rules the exchange applies to it (Alpaca's asset)."""

    symbol: str
    asset_class: AssetClass
    exchange: str = "NASDAQ"
    name: str = ""
    status: str = "active"
    tradable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    marginable: bool = True
    fractionable: bool = True
    min_order_size: Decimal | None = None
    min_trade_increment: Decimal | None = None
    price_increment: Decimal | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if not self.symbol or self.symbol != self.symbol.strip():
            raise ValueError(f"symbol must be a non-empty symbol, got {self.symbol!r}")
        if AssetClass.of_symbol(self.symbol) is not self.asset_class:
            raise ValueError(
                f"{self.symbol!r} is spelled as {AssetClass.of_symbol(self.symbol).value}, "
                f"not {self.asset_class.value} (crypto symbols carry a slash)"
            )
        if not self.id:
            # A stable UUID per symbol, as Alpaca's asset ids are stable.
            object.__setattr__(self, "id", str(uuid.uuid5(_ASSET_NAMESPACE, self.symbol)))

    @property
    def is_crypto(self) -> bool:
        return self.asset_class is AssetClass.CRYPTO

    @classmethod
    def stock(cls, symbol: str, **rules: object) -> Asset:
        """A US stock: tradable, shortable, easy to borrow, marginable and fractionable
        unless ``rules`` say otherwise."""
        return cls(symbol=symbol, asset_class=AssetClass.STOCK, **rules)  # type: ignore[arg-type]

    @classmethod
    def crypto(cls, symbol: str, **rules: object) -> Asset:
        """A crypto pair: never shortable nor marginable, always fractionable."""
        defaults: dict[str, object] = {
            "exchange": "CRYPTO",
            "shortable": False,
            "easy_to_borrow": False,
            "marginable": False,
            "fractionable": True,
        }
        return cls(symbol=symbol, asset_class=AssetClass.CRYPTO, **{**defaults, **rules})  # type: ignore[arg-type]


class TradeEvent(StrEnum):
    """The ``event`` of a trade update, spelled as Alpaca's trading stream spells it."""

    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    REJECTED = "rejected"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    DONE_FOR_DAY = "done_for_day"


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeUpdate:
    """One event on the trading stream; ``order`` is the order's state after the event."""

    event: TradeEvent
    order: Order
    timestamp: datetime
    account_id: str
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None
    execution_id: str | None = None
    fee: Decimal | None = None  # the fill's fee (fills only), as recorded on its ``Fill``


@dataclass(frozen=True, slots=True)
class CancelResult:
    """One line of a cancel-all answer (HTTP 207): the order, and 200 or the error status."""

    order_id: str
    status: int
    order: Order | None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class CloseResult:
    """One line of a close-all answer (HTTP 207): the closing order, or the error."""

    symbol: str
    status: int
    order: Order | None
    message: str | None = None


def uuid4_ids() -> Callable[[], str]:
    """Random UUID4 strings (the default; not reproducible)."""
    return lambda: str(uuid.uuid4())


def sequential_ids(seed: int = 0) -> Callable[[], str]:
    """Reproducible UUID-shaped ids: ``seed`` in the high 64 bits, a counter in the low."""
    counter = itertools.count(1)
    high = (seed & 0xFFFF_FFFF_FFFF_FFFF) << 64
    # str(uuid.UUID(int=high | n)) spelled out (a UUID object per id costs microseconds on
    # the order path): the seed fixes the first 19 characters; below 2**64 the counter fills
    # only the rest, "xxxx-xxxxxxxxxxxx". Beyond that, the UUID itself.
    prefix = str(uuid.UUID(int=high))[:19]
    low = 1 << 64

    def next_id() -> str:
        n = next(counter)
        if n < low:
            return f"{prefix}{n >> 48:04x}-{n & 0xFFFF_FFFF_FFFF:012x}"
        return str(uuid.UUID(int=high | n))

    return next_id
