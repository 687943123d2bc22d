from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stockyard.data import MarketCalendar
from stockyard.sandbox._accounts import AccountBook
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._history import HistoryQuery, portfolio_history

NYSE = MarketCalendar.nyse()
FRIDAY_CLOSE = datetime(2024, 3, 1, 21, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def _book() -> AccountBook:
    book = AccountBook()
    book.record_equity("a", int(FRIDAY_CLOSE.timestamp()) - 60, 1000.0)
    for minute in range(0, 61):
        book.record_equity("a", int(MONDAY_OPEN.timestamp()) + 60 * minute, 1000.0 + minute)
    return book


def test_intraday_points_sit_on_the_grid_and_start_from_the_previous_close() -> None:
    now = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)
    answer = portfolio_history(
        _book(), "a", HistoryQuery(period="1D", timeframe="15Min"), now=now, calendar=NYSE
    )
    stamps = answer["timestamp"]
    assert stamps == [int(MONDAY_OPEN.timestamp()) + 900 * k for k in range(5)]
    assert answer["equity"] == [1000.0, 1015.0, 1030.0, 1045.0, 1060.0]
    assert answer["base_value"] == 1000.0
    assert answer["base_value_asof"] == "2024-03-01"
    assert answer["profit_loss"] == [0.0, 15.0, 30.0, 45.0, 60.0]


def test_daily_points_are_stamped_at_midnight_new_york_with_the_close() -> None:
    now = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)
    answer = portfolio_history(
        _book(), "a", HistoryQuery(period="1W", timeframe="1D"), now=now, calendar=NYSE
    )
    assert answer["timestamp"] == [
        int(datetime(2024, 3, 1, 5, 0, tzinfo=UTC).timestamp()),
        int(datetime(2024, 3, 4, 5, 0, tzinfo=UTC).timestamp()),
    ]
    assert answer["equity"] == [1000.0, 1060.0]


def test_nothing_is_reported_before_the_first_record_or_for_another_account() -> None:
    now = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)
    answer = portfolio_history(_book(), "b", HistoryQuery(period="1D"), now=now, calendar=NYSE)
    assert answer["timestamp"] == answer["equity"] == []
    assert answer["base_value"] is None


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (HistoryQuery(period="3X"), "period"),
        (HistoryQuery(timeframe="2Min"), "timeframe"),
        (HistoryQuery(period="2M", timeframe="1Min"), "30 days"),
        (HistoryQuery(intraday_reporting="sometimes"), "intraday_reporting"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(query: HistoryQuery, words: str) -> None:
    with pytest.raises(SandboxHTTPError) as bad:
        portfolio_history(AccountBook(), "a", query, now=MONDAY_OPEN, calendar=NYSE)
    assert bad.value.status == 422
    assert words in bad.value.message
