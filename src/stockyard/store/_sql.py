"""What every table module shares: an exact decimal column, a dialect's ``INSERT``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactDecimal", "canonical_decimal", "dialect_insert"]

UpsertInsert = sqlite.Insert | postgresql.Insert


def dialect_insert(is_sqlite: bool, table: type[object]) -> UpsertInsert:
    """An ``INSERT`` of SQLite's or PostgreSQL's dialect, which have ``ON CONFLICT``."""
    return sqlite.insert(table) if is_sqlite else postgresql.insert(table)


def canonical_decimal(value: Decimal) -> Decimal:
    """``value`` as PostgreSQL's ``NUMERIC`` gives it back: no positive exponent, no -0.

    ``Decimal("1E+2")`` becomes ``Decimal("100")`` and ``Decimal("-0.0")`` ``Decimal("0.0")``;
    the scale of a fraction (``1.50``) is kept. Equal in value, and now equal in text on both
    backends, so an export from SQLite and one from PostgreSQL are the same bytes.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"expected a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"a stored decimal must be finite, got {value}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        value = Decimal(int(value))
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    return value


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` that comes back exactly as it went in (after ``canonical_decimal``).

    PostgreSQL: unconstrained ``NUMERIC`` (exact, keeps the scale). SQLite has no exact
    decimal type (its ``NUMERIC`` affinity turns ``0.1`` into a binary float), so there the
    value is stored as its text.
    """

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:  # as the base declares
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> object:
        if value is None:
            return None
        value = canonical_decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))
