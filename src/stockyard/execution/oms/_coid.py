"""Deterministic client order ids: ``{strategy_id}-{sequence}``, made safe for Alpaca."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

__all__ = ["make_client_order_id", "parse_client_order_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._:~]")
_OURS = re.compile(r"^(?P<strategy>.+)-(?P<sequence>\d+)$")


@lru_cache(maxsize=1024)
def _cleaned(strategy_id: str) -> str:
    # The same few strategy ids name every order: clean each once.
    return _UNSAFE.sub("_", strategy_id)


def make_client_order_id(strategy_id: str, sequence: int, *, max_length: int = 128) -> str:
    """``{strategy_id}-{sequence}``; a strategy id with other characters than letters, digits
    and ``._:~``, or too long to fit, is cleaned and tagged with a hash of the original, so two
    strategies never share ids and the same inputs always give the same id."""
    if not strategy_id:
        raise ValueError("strategy_id must not be empty")
    if sequence < 0:
        raise ValueError(f"sequence must be >= 0, got {sequence}")
    tail = f"-{sequence}"
    safe = _cleaned(strategy_id)
    if safe != strategy_id or len(safe) + len(tail) > max_length:
        tag = "~" + hashlib.sha256(strategy_id.encode()).hexdigest()[:10]
        room = max_length - len(tail) - len(tag)
        if room < 1:
            raise ValueError(f"sequence {sequence} leaves no room in a {max_length}-char id")
        safe = safe[:room] + tag
    return safe + tail


def parse_client_order_id(client_order_id: str) -> tuple[str, int] | None:
    """``(strategy part, sequence)`` of an id shaped like ours, else ``None``."""
    match = _OURS.match(client_order_id)
    if match is None:
        return None
    return match.group("strategy"), int(match.group("sequence"))
