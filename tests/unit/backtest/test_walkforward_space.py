"""A walk-forward's parameter space as a user writes it: ranges, choices, one value."""

from __future__ import annotations

import pytest

from stockyard.backtest._walkforward_space import parse_space


@pytest.mark.parametrize(
    ("spec", "values", "stepped"),
    [
        ("5:50:15", [5, 20, 35, 50], True),
        ("5:52:15", [5, 20, 35, 50], True),  # the stop need not be on a step
        ("3:6", [3, 4, 5, 6], True),  # step 1
        ("-3:3:3", [-3, 0, 3], True),
        ("0.5:1.5:0.1", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5], True),
        ("7:7", [7], False),
        ("5,10,5,20", [5, 10, 20], False),  # duplicates dropped, order kept
        ("0,0.25", [0.0, 0.25], False),
        ("long,short", ["long", "short"], False),
        ("100", [100], False),
        ("true", ["true"], False),  # the strategy converts it to its parameter's type
        (range(10, 31, 10), [10, 20, 30], True),
        ([30, 10], [30, 10], False),
    ],
)
def test_each_spec_walks_these_values(spec: object, values: list[object], stepped: bool) -> None:
    [axis] = parse_space({"p": spec})  # type: ignore[dict-item]
    assert axis.values() == values
    assert axis.stepped is stepped
    assert len(axis) == len(values)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5:x", "bad range '5:x'"),
        ("1:2:3:4", "use start:stop[:step], stop included"),
        ("9:3", "stop is below start"),
        ("1:9:-1", "the step must be positive"),
        ("1:nan", "bad range"),
        (",", "lists no values"),
        ("  ", "has no value"),
        ([], "has no values"),
        (range(5, 5), "is empty"),
        ([None], "None is not a number or a string"),
    ],
)
def test_a_bad_spec_is_an_error_naming_the_parameter(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match="parameter 'p'") as caught:
        parse_space({"p": spec})  # type: ignore[dict-item]
    assert message in str(caught.value)
