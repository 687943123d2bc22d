"""Strategies by name, by module:Class and from a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockyard.strategy import (
    SmaCross,
    Strategy,
    StrategyError,
    available_strategies,
    create_strategy,
    register_strategy,
    strategy_class,
)

USER_BOT = """
from stockyard.strategy import Strategy, param

class MyBot(Strategy):
    depth: int = param(3, ge=1)
"""


def test_the_built_in_bots_are_registered_by_name() -> None:
    assert {"sma_cross", "mean_reversion", "momentum", "pairs"} <= set(available_strategies())
    assert strategy_class("sma_cross") is SmaCross


def test_create_strategy_converts_parameters_given_as_strings() -> None:
    bot = create_strategy("sma_cross", symbols=["AAPL"], params={"fast": "5"})
    assert isinstance(bot, SmaCross)
    assert bot.fast == 5
    assert bot.strategy_id == "sma_cross"


def test_an_unknown_name_gets_did_you_mean() -> None:
    with pytest.raises(
        StrategyError, match="unknown strategy 'sma_crossing'; did you mean 'sma_cross'"
    ):
        strategy_class("sma_crossing")


def test_a_strategy_loads_from_module_and_class() -> None:
    assert strategy_class("stockyard.strategy.bots:Pairs").name == "pairs"
    with pytest.raises(StrategyError, match="not a Strategy subclass"):
        strategy_class("stockyard.strategy:param")
    with pytest.raises(StrategyError, match="cannot import"):
        strategy_class("no_such_module_here:Bot")


def test_a_user_strategy_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "my_bot.py"
    path.write_text(USER_BOT, encoding="utf-8")
    cls = strategy_class(str(path))
    assert cls.__name__ == "MyBot"
    assert cls.name == "my_bot"
    bot = create_strategy(f"{path}:MyBot", symbols=["AAPL"], params={"depth": 4})
    assert bot.parameters == {"depth": 4}


def test_a_file_with_two_strategies_needs_the_class_named(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(USER_BOT + "\nclass Other(MyBot):\n    pass\n", encoding="utf-8")
    with pytest.raises(StrategyError, match="defines 2 Strategy classes"):
        strategy_class(str(path))
    with pytest.raises(StrategyError, match="does not exist"):
        strategy_class(str(tmp_path / "missing.py"))


def test_a_name_cannot_be_registered_twice_for_different_classes() -> None:
    class SmaCrossCopy(Strategy):
        name = "sma_cross"

    with pytest.raises(StrategyError, match="already registered"):
        register_strategy(SmaCrossCopy)
