"""Secret redaction, applied to every line before anything is written anywhere."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping

__all__ = ["REDACTED", "Redactor", "secret_env_values"]

REDACTED = "****"
_MIN_SECRET_LEN = 6

# Field names whose values are secrets whatever they hold.
_SECRET_KEY = re.compile(
    r"(secret|token|passw(or)?d|api[_-]?key|key[_-]?id|access[_-]?key|private[_-]?key|"
    r"credential|authorization|cookie|signature)",
    re.IGNORECASE,
)
# Shapes of secrets inside free text: bearer tokens, passwords in URLs, key: value pairs.
# Group "keep" survives, the rest of the match is replaced.
_SHAPES = re.compile(
    r"(?P<keep>(?i:bearer)\s+)[A-Za-z0-9._~+/=-]+"
    r"|(?P<keep2>://[^/\s:@]*:)[^/\s@]+(?=@)"
    r"|(?P<keep3>(?i:apca-api-secret-key|apca-api-key-id|password|passwd|secret|token)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
)
# Cheap substring tests that must hit before the shape pattern is worth running.
_SHAPE_HINTS = ("bearer", "://", "passw", "secret", "token", "apca-")


def secret_env_values(environ: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose names say they hold a secret."""
    return [
        value
        for name, value in environ.items()
        if _SECRET_KEY.search(name) and len(value) >= _MIN_SECRET_LEN
    ]


class Redactor:
    """Replaces known secret values and secret-shaped text with ``****``.

    Thread-safe: ``add`` swaps in a new compiled pattern; readers use whichever is current.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern = self._compile()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (short ones are ignored: they would redact noise)."""
        with self._lock:
            fresh = {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN} - self._secrets
            if fresh:
                self._secrets |= fresh
                self._pattern = self._compile()

    def _compile(self) -> re.Pattern[str] | None:
        if not self._secrets:
            return None
        # Longest first so a secret that contains another is replaced whole.
        literals = [re.escape(x) for x in sorted(self._secrets, key=len, reverse=True)]
        return re.compile("|".join(literals))

    @staticmethod
    def is_secret_key(name: str) -> bool:
        return _SECRET_KEY.search(name) is not None

    def text(self, text: str) -> str:
        """``text`` with every secret replaced."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        lowered = text.lower()
        for hint in _SHAPE_HINTS:
            if hint in lowered:
                return _SHAPES.sub(_replace, text)
        return text


def _replace(match: re.Match[str]) -> str:
    keep = match.group("keep") or match.group("keep2") or match.group("keep3") or ""
    return f"{keep}{REDACTED}"
