"""The node's bots from ``[[bots]]``: each enabled table made into its strategy.

``stockyard.config`` checks each table's shape; the strategy reference and its parameters
can only be checked here, against the registry (floor 3). Every error is one line that
names the key: ``bots[1].strategy: unknown strategy 'sma_crss' (did you mean 'sma_cross'?)``.
"""

from __future__ import annotations

import difflib

from stockyard.config import BotSettings, ConfigError, Settings
from stockyard.core import Timeframe
from stockyard.risk import RiskEngine
from stockyard.strategy import (
    ParameterError,
    Strategy,
    StrategyError,
    available_strategies,
    strategy_class,
)

__all__ = ["apply_bot_risk", "bot_strategy", "bots_from_settings", "live_timeframe_check"]


def _strategy_class(bot: BotSettings, key: str) -> type[Strategy]:
    reference = bot.strategy
    path, _, class_name = reference.partition(":")
    by_name = not class_name and not path.endswith(".py") and "/" not in path
    if by_name and reference not in available_strategies():
        known = available_strategies()
        close = difflib.get_close_matches(reference, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
        raise ConfigError(f"{key}.strategy: unknown strategy {reference!r}{hint}", key=key)
    try:
        return strategy_class(reference)
    except StrategyError as exc:
        raise ConfigError(f"{key}.strategy: {exc.message}", key=f"{key}.strategy") from None


def bot_strategy(bot: BotSettings, *, index: int) -> Strategy:
    """The strategy of ``bots[index]``; raises ``ConfigError`` naming the bad key."""
    key = f"bots[{index}]"
    cls = _strategy_class(bot, key)
    declared = cls.params()
    for name in bot.params:
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else (f" (known: {', '.join(sorted(declared))})" if declared else "")
            )
            raise ConfigError(
                f"{key}.params.{name}: {cls.name} has no parameter {name!r}{hint}",
                key=f"{key}.params.{name}",
            )
    try:
        return cls(symbols=bot.symbols, strategy_id=bot.name, **bot.params)
    except ParameterError as exc:
        raise ConfigError(f"{key}.params: {exc.message}", key=f"{key}.params") from None
    except StrategyError as exc:
        raise ConfigError(f"{key}: {exc.message}", key=key) from None


def bots_from_settings(settings: Settings) -> list[Strategy]:
    """The strategies of every enabled ``[[bots]]`` table, in order (every table is checked,
    enabled or not). Raises ``ConfigError`` for the first bad one."""
    made = [(bot, bot_strategy(bot, index=i)) for i, bot in enumerate(settings.bots)]
    return [strategy for bot, strategy in made if bot.enabled]


def live_timeframe_check(settings: Settings) -> None:
    """The live node trades the feed's minute bars: a bot of another timeframe is refused
    at start (backtests take any)."""
    for index, bot in enumerate(settings.bots):
        if bot.enabled and Timeframe.parse(bot.timeframe) != Timeframe.MINUTE:
            raise ConfigError(
                f"bots[{index}].timeframe: the live node trades 1Min bars (the feed's), "
                f"not {bot.timeframe}",
                key=f"bots[{index}].timeframe",
            )


def apply_bot_risk(risk: RiskEngine, settings: Settings) -> None:
    """Give each ``[[bots]]`` table's ``risk`` limits to its bot's orders."""
    for bot in settings.bots:
        risk.limit_strategy(bot.name, **bot.risk.model_dump())
