"""Where bars live in a store: ``{root}/{asset_class}/{timeframe}/{symbol_safe}/{year}.parquet``."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from stockyard.core import AssetClass, Timeframe

__all__ = ["parse_partition_path", "partition_path", "symbol_dir", "symbol_from_dir", "symbol_safe"]

_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
_PARTITION = re.compile(r"^(stock|crypto)/([^/]+)/([^/]+)/(\d{4})\.parquet$")


def symbol_safe(symbol: str) -> str:
    """A directory name for ``symbol``: ``BTC/USD`` → ``BTC-USD``; reversible.

    ``/`` becomes ``-``; every other character outside ``[A-Za-z0-9._]`` (``-`` included)
    is percent-encoded, so ``symbol_from_dir`` can undo it exactly.
    """
    if not symbol:
        raise ValueError("symbol must be a non-empty string")
    # ``quote`` never encodes "-": do it by hand so "-" can stand for "/".
    return "-".join(quote(part, safe=_SAFE).replace("-", "%2D") for part in symbol.split("/"))


def symbol_from_dir(name: str) -> str:
    """Inverse of ``symbol_safe``."""
    return "/".join(unquote(part) for part in name.split("-"))


def symbol_dir(root: str, symbol: str, timeframe: Timeframe) -> str:
    """The directory holding every partition of ``symbol`` at ``timeframe``."""
    asset = AssetClass.of_symbol(symbol).value
    return f"{root}/{asset}/{timeframe}/{symbol_safe(symbol)}"


def partition_path(root: str, symbol: str, timeframe: Timeframe, year: int) -> str:
    """The file holding one year of ``symbol`` at ``timeframe``."""
    return f"{symbol_dir(root, symbol, timeframe)}/{year:04d}.parquet"


def parse_partition_path(relative: str) -> tuple[AssetClass, Timeframe, str, int] | None:
    """Split a path relative to the root into its parts; ``None`` if it is not a partition."""
    match = _PARTITION.match(relative)
    if match is None:
        return None
    asset, tf_text, safe, year = match.groups()
    try:
        timeframe = Timeframe.parse(tf_text)
    except ValueError:
        return None
    return AssetClass(asset), timeframe, symbol_from_dir(safe), int(year)
