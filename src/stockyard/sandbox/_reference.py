"""Reference data the sandbox serves from a local store: corporate actions (splits and
cash dividends) and news, empty when there is none; and Alpaca's exchange and condition
codes. ``load_reference`` reads a JSON file::

    {"corporate_actions": [{"type": "forward_split", "symbol": "AAPL",
                            "ex_date": "2024-03-05", "old_rate": 1, "new_rate": 4}, ...],
     "news": [{"id": 1, "headline": "...", "symbols": ["AAPL"], "created_at": "..."}, ...]}
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

__all__ = [
    "CONDITIONS",
    "EXCHANGES",
    "CorporateAction",
    "ReferenceData",
    "load_reference",
]

_KINDS = ("forward_split", "reverse_split", "cash_dividend")
_IDS = uuid.UUID("5d0c1b9e-7a43-4f0e-9c51-2b6d8e4f1a37")


@dataclass(frozen=True, slots=True, kw_only=True)
class CorporateAction:
    """A split (``old_rate`` shares become ``new_rate``) or a cash dividend (``rate`` a
    share), effective on ``ex_date``."""

    type: str
    symbol: str
    ex_date: date
    old_rate: Decimal = Decimal(1)
    new_rate: Decimal = Decimal(1)
    rate: Decimal = Decimal(0)
    record_date: date | None = None
    payable_date: date | None = None
    declaration_date: date | None = None

    def __post_init__(self) -> None:
        if self.type not in _KINDS:
            raise ValueError(f"corporate action type must be one of {', '.join(_KINDS)}")
        if self.old_rate <= 0 or self.new_rate <= 0 or self.rate < 0:
            raise ValueError("corporate action rates must be positive")

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_IDS, f"{self.type}|{self.symbol}|{self.ex_date}"))

    @property
    def is_split(self) -> bool:
        return self.type != "cash_dividend"


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Corporate actions and news, as loaded; both empty by default."""

    corporate_actions: tuple[CorporateAction, ...] = ()
    news: tuple[dict[str, object], ...] = field(default=())


def _date(item: dict[str, object], name: str, *, required: bool = False) -> date | None:
    text = item.get(name)
    if text is None and not required:
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), got {text!r}") from None


def _decimal(item: dict[str, object], name: str, default: str) -> Decimal:
    try:
        return Decimal(str(item.get(name, default)))
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, got {item.get(name)!r}") from None


def _action(item: object) -> CorporateAction:
    if not isinstance(item, dict):
        raise ValueError("each corporate action is a JSON object")
    ex_date = _date(item, "ex_date", required=True)
    assert ex_date is not None
    return CorporateAction(
        type=str(item.get("type")),
        symbol=str(item.get("symbol", "")).upper(),
        ex_date=ex_date,
        old_rate=_decimal(item, "old_rate", "1"),
        new_rate=_decimal(item, "new_rate", "1"),
        rate=_decimal(item, "rate", "0"),
        record_date=_date(item, "record_date"),
        payable_date=_date(item, "payable_date"),
        declaration_date=_date(item, "declaration_date"),
    )


def _news(item: object) -> dict[str, object]:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise ValueError("each news item is a JSON object with an integer id")
    created = str(item.get("created_at", ""))
    try:
        datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"news {item['id']}: created_at must be RFC 3339") from None
    return {
        "id": item["id"],
        "headline": str(item.get("headline", "")),
        "author": str(item.get("author", "")),
        "created_at": created,
        "updated_at": str(item.get("updated_at", created)),
        "summary": str(item.get("summary", "")),
        "content": str(item.get("content", "")),
        "url": item.get("url") if isinstance(item.get("url"), str) else None,
        "images": _list(item, "images"),
        "symbols": [str(s).upper() for s in _list(item, "symbols")],
        "source": str(item.get("source", "local")),
    }


def _list(item: dict[str, object], name: str) -> list[object]:
    value = item.get(name, [])
    if not isinstance(value, list):
        raise ValueError(f"news {item.get('id')}: {name} must be a list")
    return value


def load_reference(path: Path) -> ReferenceData:
    """Read the local store; a bad entry is a ``ValueError`` naming the file and what."""
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        actions = tuple(_action(a) for a in data.get("corporate_actions", []))
        news = tuple(_news(n) for n in data.get("news", []))
    except (OSError, ValueError) as exc:
        raise ValueError(f"reference data {path}: {exc}") from None
    return ReferenceData(actions, news)


# Alpaca's codes (GET /v2/stocks/meta/exchanges and /meta/conditions/{trade,quote}).
EXCHANGES = {
    "A": "NYSE American (AMEX)", "B": "NASDAQ OMX BX", "C": "National Stock Exchange",
    "D": "FINRA ADF", "E": "Market Independent", "H": "MIAX",
    "I": "International Securities Exchange", "J": "Cboe EDGA", "K": "Cboe EDGX",
    "L": "Long Term Stock Exchange", "M": "Chicago Stock Exchange",
    "N": "New York Stock Exchange", "P": "NYSE Arca", "Q": "NASDAQ OMX",
    "S": "NASDAQ Small Cap", "T": "NASDAQ Int", "U": "Members Exchange", "V": "IEX",
    "W": "CBOE", "X": "NASDAQ OMX PSX", "Y": "Cboe BYX", "Z": "Cboe BZX",
}  # fmt: skip
CONDITIONS = {
    "trade": {
        "@": "Regular Sale", "A": "Acquisition", "B": "Bunched Trade", "C": "Cash Sale",
        "D": "Distribution", "E": "Placeholder", "F": "Intermarket Sweep",
        "G": "Bunched Sold Trade", "H": "Price Variation Trade", "I": "Odd Lot Trade",
        "K": "Rule 155 Trade (AMEX)", "L": "Sold Last", "M": "Market Center Official Close",
        "N": "Next Day", "O": "Opening Prints", "P": "Prior Reference Price",
        "Q": "Market Center Official Open", "R": "Seller", "S": "Split Trade", "T": "Form T",
        "U": "Extended Trading Hours (Sold Out of Sequence)", "V": "Contingent Trade",
        "W": "Average Price Trade", "X": "Cross/Periodic Auction Trade",
        "Y": "Yellow Flag Regular Trade", "Z": "Sold (Out of Sequence)",
        "1": "Stopped Stock (Regular Trade)", "4": "Derivatively Priced",
        "5": "Re-Opening Prints", "6": "Closing Prints",
        "7": "Qualified Contingent Trade (QCT)", "8": "Placeholder For 611 Exempt",
        "9": "Corrected Consolidated Close (per listing market)",
    },
    "quote": {
        "A": "Slow Quote Offer Side", "B": "Slow Quote Bid Side", "C": "Closing Quote",
        "E": "Slow Quote LRP Bid Side", "F": "Slow Quote LRP Offer Side",
        "H": "Slow Quote Bid And Offer Side", "L": "Market Maker Quotes Closed",
        "N": "Non Firm Quote", "O": "Opening Quote", "R": "Regular Market Maker Open",
        "U": "Slow Quote LRP Bid And Offer", "W": "Slow Quote Set Slow List",
        "4": "On Demand Intra Day Auction",
    },
}  # fmt: skip
