"""Trading notifications are opt-in: nothing without a kind switched on, and a kind
switched on without a place to send it fails at start naming the key."""

from __future__ import annotations

import pytest

from stockyard.config import ConfigError, load_settings
from stockyard.engine import trade_notifier


def test_every_kind_is_off_by_default_so_no_notifier_is_made() -> None:
    settings = load_settings(overrides={"alerts.apprise_urls": "json://127.0.0.1:9/hook"})
    assert not settings.alerts.notify_fills
    assert not settings.alerts.notify_halts
    assert not settings.alerts.notify_daily_summary
    assert trade_notifier(settings) is None


# apprise's plugins import the standard library's imghdr, deprecated in Python 3.11+.
@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_a_kind_switched_on_makes_a_notifier_for_the_apprise_urls() -> None:
    settings = load_settings(
        overrides={"alerts.apprise_urls": "json://127.0.0.1:9/hook", "alerts.notify_halts": True}
    )
    notifier = trade_notifier(settings)
    assert notifier is not None
    assert (notifier.fills, notifier.halts, notifier.daily_summary) == (False, True, False)


def test_a_kind_switched_on_without_urls_names_the_missing_key() -> None:
    settings = load_settings(overrides={"alerts.notify_fills": True})
    with pytest.raises(ConfigError, match=r"alerts\.apprise_urls .*alerts\.notify_fills"):
        trade_notifier(settings)
