"""Declared parameters: defaults, conversion, bounds, and "did you mean" for a typo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockyard.strategy import ParameterError, SmaCross, Strategy, param


class Tuned(Strategy):
    window: int = param(20, ge=2)
    threshold: float = param(1.5, gt=0)
    size: Decimal = param(Decimal("0.5"), gt=0)
    mode: str = param("fast", choices=["fast", "slow"])
    verbose: bool = param(False)


def test_defaults_are_taken_and_given_values_override_them() -> None:
    bot = SmaCross(symbols=["AAPL"], fast=5)
    assert (bot.fast, bot.slow, bot.qty) == (5, 30, 100)
    assert bot.parameters == {"fast": 5, "slow": 30, "qty": 100}
    assert set(SmaCross.params()) == {"fast", "slow", "qty"}


def test_strings_from_the_command_line_are_converted_to_the_declared_type() -> None:
    bot = Tuned(window="30", threshold="2.5", size="0.25", mode="slow", verbose="yes")
    assert bot.parameters == {
        "window": 30,
        "threshold": 2.5,
        "size": Decimal("0.25"),
        "mode": "slow",
        "verbose": True,
    }


def test_a_misspelt_parameter_gets_did_you_mean() -> None:
    with pytest.raises(ParameterError) as caught:
        SmaCross(symbols=["AAPL"], fsat=5)
    assert str(caught.value) == "unknown parameter 'fsat' for sma_cross; did you mean 'fast'?"


def test_an_unknown_parameter_with_no_close_name_lists_the_known_ones() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'zzz' for sma_cross; known: fast"):
        SmaCross(zzz=1)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"fast": 0}, "parameter 'fast' of sma_cross must be >= 1, got 0"),
        ({"fast": "ten"}, "parameter 'fast' of sma_cross must be int, got 'ten'"),
        ({"fast": True}, "parameter 'fast' of sma_cross must be int, got True"),
        ({"fast": 2.5}, "parameter 'fast' of sma_cross must be int, got 2.5"),
        ({"fast": 40}, "sma_cross needs fast < slow, got fast=40 slow=30"),
    ],
)
def test_a_bad_value_gets_a_clear_error(given: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        SmaCross(symbols=["AAPL"], **given)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"threshold": float("nan")}, "'threshold' of tuned must be float"),
        ({"threshold": 0}, "'threshold' of tuned must be > 0"),
        ({"mode": "medium"}, "'mode' of tuned must be one of 'fast', 'slow'"),
        ({"verbose": "perhaps"}, "'verbose' of tuned must be bool"),
        ({"size": "lots"}, "'size' of tuned must be Decimal"),
    ],
)
def test_floats_decimals_choices_and_flags_are_checked(
    given: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ParameterError, match=fragment):
        Tuned(**given)


def test_a_bad_default_fails_when_the_class_is_defined() -> None:
    with pytest.raises(ParameterError, match="must be >= 2, got 1"):

        class Broken(Strategy):
            window: int = param(1, ge=2)


def test_subclasses_inherit_and_extend_parameters_and_get_a_snake_case_name() -> None:
    class LongerTuned(Tuned):
        extra: int = param(3)

    assert LongerTuned.name == "longer_tuned"
    assert set(LongerTuned.params()) == {"window", "threshold", "size", "mode", "verbose", "extra"}
