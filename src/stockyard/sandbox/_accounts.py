"""What an Alpaca account holds besides orders and positions: its configurations, its
watchlists and its equity record (the source of ``/v2/account/portfolio/history``).

All of it is kept per account, saved with the exchange's snapshot and restored with it.
"""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from stockyard.sandbox._errors import SandboxHTTPError

__all__ = ["DEFAULT_CONFIGURATIONS", "AccountBook", "Watchlist"]

DEFAULT_CONFIGURATIONS: dict[str, object] = {
    "dtbp_check": "entry",
    "trade_confirm_email": "all",
    "suspend_trade": False,
    "no_shorting": False,
    "fractional_trading": True,
    "max_margin_multiplier": "4",
    "max_options_trading_level": 0,
    "pdt_check": "entry",
    "ptp_no_exception_entry": False,
    "disable_overnight_trading": False,
}
_CHOICES: dict[str, tuple[object, ...]] = {
    "dtbp_check": ("both", "entry", "exit"),
    "trade_confirm_email": ("all", "none"),
    "max_margin_multiplier": ("1", "2", "4"),
    "pdt_check": ("both", "entry", "exit"),
    "max_options_trading_level": (0, 1, 2, 3),
}
_MAX_NAME = 64
_MAX_POINTS = 500_000  # per account; the oldest are dropped past this


@dataclass(slots=True)
class Watchlist:
    """An ordered list of symbols with a name unique within its account."""

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    symbols: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Book:
    configurations: dict[str, object] = field(default_factory=lambda: dict(DEFAULT_CONFIGURATIONS))
    watchlists: dict[str, Watchlist] = field(default_factory=dict)
    times: list[int] = field(default_factory=list)  # epoch seconds, ascending
    equity: list[float] = field(default_factory=list)


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SandboxHTTPError(422, "name is required")
    if len(value) > _MAX_NAME:
        raise SandboxHTTPError(422, f"name must be at most {_MAX_NAME} characters")
    return value


class AccountBook:
    """Configurations, watchlists and the equity record of every account."""

    def __init__(self) -> None:
        self._books: dict[str, _Book] = {}

    def _book(self, account_id: str) -> _Book:
        return self._books.setdefault(account_id, _Book())

    # -- configurations ----------------------------------------------------------------

    def configurations(self, account_id: str) -> dict[str, object]:
        return dict(self._book(account_id).configurations)

    def configure(self, account_id: str, changes: dict[str, object]) -> dict[str, object]:
        """Apply ``changes`` (all or nothing); a bad key or value is a 422 naming it."""
        current = self._book(account_id).configurations
        for key, value in changes.items():
            if key not in DEFAULT_CONFIGURATIONS:
                raise SandboxHTTPError(422, f"unknown configuration {key!r}")
            expected = type(DEFAULT_CONFIGURATIONS[key])
            choices = _CHOICES.get(key)
            if type(value) is not expected or (choices is not None and value not in choices):
                allowed = ", ".join(map(str, choices)) if choices else expected.__name__
                raise SandboxHTTPError(422, f"invalid {key} {value!r}: use {allowed}")
        current.update(changes)
        return dict(current)

    # -- watchlists --------------------------------------------------------------------

    def watchlists(self, account_id: str) -> list[Watchlist]:
        return sorted(self._book(account_id).watchlists.values(), key=lambda w: w.created_at)

    def watchlist(
        self, account_id: str, *, id: str | None = None, name: str | None = None
    ) -> Watchlist:
        for w in self._book(account_id).watchlists.values():
            if (id is not None and w.id == id) or (name is not None and w.name == name):
                return w
        raise SandboxHTTPError(404, "watchlist not found")

    def create_watchlist(
        self, account_id: str, *, name: object, symbols: list[str], at: datetime
    ) -> Watchlist:
        text = _name(name)
        book = self._book(account_id)
        if any(w.name == text for w in book.watchlists.values()):
            raise SandboxHTTPError(422, f"watchlist name {text!r} is already used")
        made = Watchlist(str(uuid.uuid4()), text, at, at, list(dict.fromkeys(symbols)))
        book.watchlists[made.id] = made
        return made

    def update_watchlist(
        self,
        account_id: str,
        w: Watchlist,
        *,
        name: object,
        symbols: list[str] | None,
        at: datetime,
    ) -> Watchlist:
        if name is not None:
            text = _name(name)
            others = self._book(account_id).watchlists.values()
            if any(o.name == text and o is not w for o in others):
                raise SandboxHTTPError(422, f"watchlist name {text!r} is already used")
            w.name = text
        if symbols is not None:
            w.symbols = list(dict.fromkeys(symbols))
        w.updated_at = at
        return w

    def delete_watchlist(self, account_id: str, w: Watchlist) -> None:
        self._book(account_id).watchlists.pop(w.id, None)

    # -- equity record -----------------------------------------------------------------

    def record_equity(self, account_id: str, at: int, equity: float) -> None:
        """Keep ``equity`` as of epoch second ``at`` (one point per distinct time)."""
        book = self._book(account_id)
        if book.times and book.times[-1] == at:
            book.equity[-1] = equity
            return
        book.times.append(at)
        book.equity.append(equity)
        if len(book.times) > _MAX_POINTS:
            del book.times[: len(book.times) - _MAX_POINTS]
            del book.equity[: len(book.equity) - _MAX_POINTS]

    def equity_at(self, account_id: str, at: int) -> float | None:
        """The last recorded equity at or before epoch second ``at``; ``None`` before any."""
        book = self._book(account_id)
        i = bisect.bisect_right(book.times, at) - 1
        return book.equity[i] if i >= 0 else None

    def first_record(self, account_id: str) -> int | None:
        book = self._book(account_id)
        return book.times[0] if book.times else None

    # -- state -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, object]:
        return {
            account: {
                "configurations": book.configurations,
                "watchlists": [
                    {
                        "id": w.id,
                        "name": w.name,
                        "created_at": w.created_at.isoformat(),
                        "updated_at": w.updated_at.isoformat(),
                        "symbols": w.symbols,
                    }
                    for w in book.watchlists.values()
                ],
                "times": book.times,
                "equity": book.equity,
            }
            for account, book in self._books.items()
        }

    @classmethod
    def restore(cls, data: object) -> AccountBook:
        """From ``snapshot()``; raises ``ValueError``/``KeyError``/``TypeError`` when bad."""
        made = cls()
        if not isinstance(data, dict):
            return made
        for account, raw in data.items():
            book = _Book(
                configurations={**DEFAULT_CONFIGURATIONS, **raw["configurations"]},
                times=[int(t) for t in raw["times"]],
                equity=[float(e) for e in raw["equity"]],
            )
            for w in raw["watchlists"]:
                book.watchlists[w["id"]] = Watchlist(
                    w["id"],
                    w["name"],
                    datetime.fromisoformat(w["created_at"]),
                    datetime.fromisoformat(w["updated_at"]),
                    list(w["symbols"]),
                )
            made._books[str(account)] = book
        return made
