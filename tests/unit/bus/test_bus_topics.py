from __future__ import annotations

import pytest

from stockyard.bus import QueuePolicy, TopicPattern, md_topic, policy_for


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("md.bar.AAPL", "md.bar.AAPL", True),
        ("md.bar.AAPL", "md.bar.MSFT", False),
        ("md.bar.*", "md.bar.AAPL", True),
        ("md.bar.*", "md.bar", False),
        ("md.bar.*", "md.bar.AAPL.x", False),
        ("md.*.AAPL", "md.quote.AAPL", True),
        ("md.>", "md.bar.AAPL", True),
        ("md.>", "md", False),
        (">", "exec.fill", True),
        ("exec.*", "md.bar.AAPL", False),
    ],
)
def test_wildcards_match_one_token_or_the_rest(pattern: str, topic: str, expected: bool) -> None:
    assert TopicPattern(pattern).matches(topic) is expected


@pytest.mark.parametrize("bad", ["", "md..bar", "md.>.x", "md.ba*", "md.[x]"])
def test_malformed_patterns_are_rejected_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        TopicPattern(bad)


def test_a_dotted_symbol_keeps_one_token_in_its_topic() -> None:
    assert md_topic("bar", "BRK.B") == "md.bar.BRK_B"
    assert TopicPattern("md.bar.*").matches(md_topic("bar", "BRK.B"))


def test_market_data_drops_oldest_and_execution_never_drops() -> None:
    assert policy_for("md.bar.AAPL") is QueuePolicy.DROP_OLDEST
    assert policy_for("exec.fill") is QueuePolicy.NEVER_DROP
    assert policy_for("audit.order") is QueuePolicy.NEVER_DROP
