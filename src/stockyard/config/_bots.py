"""``[[bots]]``: the trading bots a node runs, and which account it trades.

Each table names a strategy (a registered name, ``module:Class`` or a ``.py`` file), its
symbols, timeframe and parameters, optional risk limits of its own, and whether it runs.
The strategy and its parameters are checked against the strategy registry when the node is
built (``stockyard.engine.bots_from_settings``), where the registry lives; here the shape of
each table is checked. Frozen, unknown keys rejected.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from stockyard.config._sections import Section, split_list
from stockyard.core import Timeframe

if TYPE_CHECKING:
    from stockyard.config._settings import Settings

__all__ = ["BROKERS", "BotRiskSettings", "BotSettings", "BrokerKind", "account_of", "broker_of"]

BrokerKind = Literal["sandbox", "alpaca-paper", "alpaca-live"]
BROKERS: tuple[BrokerKind, ...] = ("sandbox", "alpaca-paper", "alpaca-live")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.]{0,9}(/[A-Z]{2,6})?$")
ParamValue = bool | int | float | str


class BotRiskSettings(Section):
    """Limits of one bot's orders, in place of the account's ``[risk]`` value of the same
    name (the account's other limits still apply)."""

    max_order_qty: Decimal | None = Field(default=None, gt=0, description="shares per order")
    max_order_notional: Decimal | None = Field(
        default=None, gt=0, description="qty x price per order"
    )
    max_position_qty: Decimal | None = Field(
        default=None, gt=0, description="|shares| held per symbol, open orders included"
    )


class BotSettings(Section):
    """One ``[[bots]]`` table: a strategy trading some symbols."""

    name: str = Field(description="the bot's id: unique, letters, digits, _ . -")
    strategy: str = Field(description="sma_cross, module:Class or bots/my_bot.py")
    symbols: tuple[str, ...] = Field(min_length=1, description="AAPL, BTC/USD, ...")
    timeframe: str = Field(default="1Min", description="bar length the bot trades")
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="the strategy's parameters"
    )
    risk: BotRiskSettings = BotRiskSettings()
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"bot name {value!r} must be 1-63 letters, digits or _ . - "
                "(starting with a letter or digit)"
            )
        return value

    @field_validator("symbols", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in value:
            if not _SYMBOL.match(symbol):
                raise ValueError(
                    f"bad symbol {symbol!r}: use tickers like AAPL or BRK.B, crypto like BTC/USD"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"a symbol is listed twice in {list(value)}")
        return value

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        return str(Timeframe.parse(value))  # raises ValueError naming the allowed spellings


def broker_of(settings: Settings) -> BrokerKind:
    """The broker the node trades: ``node.broker``, else from ``alpaca.base_url`` (a local
    URL is the sandbox, Alpaca's paper URL paper, its live URL live)."""
    if settings.node.broker is not None:
        return settings.node.broker
    alpaca = settings.alpaca
    if alpaca.is_sandbox:
        return "sandbox"
    return "alpaca-live" if alpaca.is_live else "alpaca-paper"


def account_of(broker: BrokerKind) -> str:
    """The account name of a broker (``node@NAME``): ``sandbox``, ``paper`` or ``live``."""
    return {"sandbox": "sandbox", "alpaca-paper": "paper", "alpaca-live": "live"}[broker]
