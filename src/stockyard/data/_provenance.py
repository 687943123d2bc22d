"""Where bars came from and how they are adjusted, carried with the bars.

A bar table carries its ``BarOrigin`` (what made the bars: Alpaca, the synthetic model, a
user's file; and the corporate-action adjustment of its prices) in its Arrow schema
metadata; Parquet keeps it in each file, so a store knows what it holds. ``Provenance`` adds
where a read found the table (the local store, S3, Alpaca, the synthetic source, a file):
every backtest result shows one per symbol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import orjson
import pyarrow as pa

__all__ = [
    "ADJUSTMENTS",
    "Adjustment",
    "BarOrigin",
    "Provenance",
    "describe_all",
    "origin_of",
    "with_origin",
]

# Alpaca's ``adjustment`` values, plus "none" (nothing to adjust: crypto, synthetic bars)
# and "unknown" (bars stored before the adjustment was recorded, or a user's file).
Adjustment = Literal["raw", "split", "dividend", "all", "none", "unknown"]
ADJUSTMENTS: tuple[str, ...] = ("raw", "split", "dividend", "all", "none", "unknown")
_KEY = b"stockyard.origin"
_ADJUSTED = {
    "raw": "raw (not adjusted)",
    "split": "split-adjusted",
    "dividend": "dividend-adjusted",
    "all": "split- and dividend-adjusted",
    "none": "no corporate actions",
    "unknown": "adjustment unknown",
}
_SOURCES = {
    "local": "local store",
    "s3": "S3",
    "alpaca": "Alpaca",
    "synthetic": "synthetic",
    "file": "file",
    "sandbox": "the local sandbox",
}


@dataclass(frozen=True, slots=True)
class BarOrigin:
    """What made a table's bars: ``origin`` (``alpaca``, ``sandbox``, ``synthetic``,
    ``file``, ``unknown``), their ``adjustment`` and a ``detail`` (feed, seed, file name)."""

    origin: str
    adjustment: str = "unknown"
    detail: str = ""

    def __post_init__(self) -> None:
        if self.adjustment not in ADJUSTMENTS:
            raise ValueError(
                f"adjustment must be one of {', '.join(ADJUSTMENTS)}, got {self.adjustment!r}"
            )

    def to_dict(self) -> dict[str, str]:
        return {"origin": self.origin, "adjustment": self.adjustment, "detail": self.detail}


UNKNOWN = BarOrigin("unknown")


def with_origin(table: pa.Table, origin: BarOrigin) -> pa.Table:
    """``table`` tagged with ``origin`` (zero-copy: only the schema's metadata changes)."""
    metadata = dict(table.schema.metadata or {})
    metadata[_KEY] = orjson.dumps(origin.to_dict())
    return table.replace_schema_metadata(metadata)


def origin_of(table: pa.Table | pa.Schema) -> BarOrigin | None:
    """The origin a table (or a Parquet file's schema) carries; ``None`` when untagged."""
    schema = table if isinstance(table, pa.Schema) else table.schema
    raw = (schema.metadata or {}).get(_KEY)
    if raw is None:
        return None
    try:
        data = orjson.loads(raw)
        return BarOrigin(str(data["origin"]), str(data["adjustment"]), str(data.get("detail", "")))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Provenance:
    """One symbol's bars in a result: the ``source`` that served them (``local``, ``s3``,
    ``alpaca``, ``synthetic``, ``file``) and what made them (``origin``)."""

    source: str
    origin: BarOrigin = UNKNOWN

    @property
    def synthetic(self) -> bool:
        """Made by the synthetic model, wherever they were read from."""
        return self.source == "synthetic" or self.origin.origin == "synthetic"

    def describe(self) -> str:
        """One line a trader reads: "synthetic (local store, seed 42)", "Alpaca via S3 (iex
        feed), split- and dividend-adjusted"."""
        where = _SOURCES.get(self.source, self.source)
        made = self.origin.origin
        if self.synthetic:
            detail = ", ".join(
                p for p in (where if where != "synthetic" else "", self.origin.detail) if p
            )
            return "synthetic" + (f" ({detail})" if detail else "")
        head = where
        if made not in ("unknown", self.source):
            head = _SOURCES.get(made, made)
            if self.source in ("local", "s3"):  # a store holding bars made elsewhere
                head += f" via {where}"
        if self.origin.detail:
            head += f" ({self.origin.detail})"
        return f"{head}, {_ADJUSTED.get(self.origin.adjustment, self.origin.adjustment)}"

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, **self.origin.to_dict(), "description": self.describe()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Provenance:
        return cls(
            str(data["source"]),
            BarOrigin(
                str(data.get("origin", "unknown")),
                str(data.get("adjustment", "unknown")),
                str(data.get("detail", "")),
            ),
        )


def describe_all(provenance: Mapping[str, Provenance]) -> str:
    """Every symbol's provenance on one line; symbols that share one are grouped."""
    groups: dict[str, list[str]] = {}
    for symbol, found in provenance.items():
        groups.setdefault(found.describe(), []).append(symbol)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{', '.join(symbols)}: {text}" for text, symbols in groups.items())
