"""Errors the store raises on bad input; each changes nothing."""

from __future__ import annotations

from stockyard.resilience import ValidationError

__all__ = ["StateFormatError", "StateNotEmptyError", "UnknownRunError"]


class UnknownRunError(ValidationError):
    """A run id that the state database does not hold."""


class StateFormatError(ValidationError):
    """A state document that is malformed, of another format version, or inconsistent."""


class StateNotEmptyError(ValidationError):
    """An import into a database that already holds state, without ``replace``."""
