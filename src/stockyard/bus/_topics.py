"""Topic names, wildcard patterns and the delivery policy of each topic family.

Topics are dot-separated tokens: ``md.bar.AAPL``, ``md.quote.BTC/USD``, ``exec.fill``.
In a pattern ``*`` matches exactly one token and ``>`` (last token only) matches one or
more trailing tokens, as in NATS: ``md.bar.*`` matches ``md.bar.AAPL``; ``md.>`` matches
every market-data topic. A symbol with a dot (``BRK.B``) is written with ``_`` in its topic
(`md_topic` does it) so that ``*`` keeps matching exactly one symbol.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "QueuePolicy",
    "TopicPattern",
    "check_topic",
    "family_of",
    "md_topic",
    "policy_for",
]


class QueuePolicy(StrEnum):
    """What an async consumer's full queue does with the next message."""

    DROP_OLDEST = "drop_oldest"
    """Market data: the oldest queued message is dropped (and counted); fresh data wins."""
    NEVER_DROP = "never_drop"
    """Execution and audit: nothing is dropped; the queue grows past its bound (counted and
    warned) for a synchronous publisher, and ``publish_async`` waits for room."""


_POLICIES = {"md": QueuePolicy.DROP_OLDEST}


def family_of(topic: str) -> str:
    """The first token: ``md``, ``exec``, ``audit``, ..."""
    head, _, _ = topic.partition(".")
    return head


def policy_for(topic: str) -> QueuePolicy:
    """Market data drops oldest; every other family (``exec``, ``audit``, ...) never drops."""
    return _POLICIES.get(family_of(topic), QueuePolicy.NEVER_DROP)


def md_topic(kind: str, symbol: str) -> str:
    """``md_topic("bar", "AAPL") == "md.bar.AAPL"``; dots in the symbol become ``_``."""
    return f"md.{kind}.{symbol.replace('.', '_')}"


# Redis globs give these a meaning; keeping them out makes a topic its own exact glob.
_GLOB_CHARS = frozenset("?[]\\")


def _check(text: str, *, pattern: bool) -> tuple[str, ...]:
    if not text:
        raise ValueError("a topic must be a non-empty string")
    tokens = tuple(text.split("."))
    for i, token in enumerate(tokens):
        if not token:
            raise ValueError(f"topic {text!r} has an empty token")
        if not pattern and token in ("*", ">"):
            raise ValueError(f"topic {text!r}: wildcards belong in subscriptions, not topics")
        if token == ">" and i != len(tokens) - 1:
            raise ValueError(f"pattern {text!r}: '>' may only be the last token")
        if token not in {"*", ">"} and ("*" in token or ">" in token):
            raise ValueError(f"pattern {text!r}: a wildcard must be a whole token")
        if _GLOB_CHARS.intersection(token):
            raise ValueError(f"topic {text!r}: '?', '[', ']' and '\\' are not allowed")
    return tokens


def check_topic(topic: str) -> str:
    """Return ``topic`` if it is a valid concrete topic, else raise ``ValueError``."""
    _check(topic, pattern=False)
    return topic


class TopicPattern:
    """A compiled subscription pattern; `matches` is called once per new topic, then cached."""

    __slots__ = ("_tokens", "is_exact", "text")

    def __init__(self, text: str) -> None:
        self._tokens = _check(text, pattern=True)
        self.text = text
        self.is_exact = "*" not in self._tokens and ">" not in self._tokens

    def matches(self, topic: str) -> bool:
        """True when ``topic`` (a concrete topic) matches this pattern."""
        if self.is_exact:
            return topic == self.text
        parts = topic.split(".")
        tokens = self._tokens
        if tokens[-1] == ">":
            if len(parts) < len(tokens):
                return False
            tokens = tokens[:-1]
            parts = parts[: len(tokens)]
        elif len(parts) != len(tokens):
            return False
        return all(t in ("*", p) for t, p in zip(tokens, parts, strict=True))

    def redis_glob(self, prefix: str) -> str:
        """The Redis PSUBSCRIBE glob that covers this pattern (a superset: `matches` filters)."""
        return prefix + ".".join("*" if t in ("*", ">") else t for t in self._tokens)

    def __repr__(self) -> str:
        return f"TopicPattern({self.text!r})"
