"""Statements on the order path, compiled once and run straight on the database driver.

SQLAlchemy's per-call work (building the execution context, processing each parameter, the
result wrapper) costs tens of microseconds per statement, several times what SQLite takes to
insert the row. The order journal's inserts run on every order, so they are compiled once
for the engine's dialect, their parameters are bound with the columns' own SQLAlchemy type
processors (the same values a Core ``execute`` would send), and they are run on a pooled
DBAPI connection. What they write reads back through the ORM like any other row (tested on
SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["DriverStatement", "driver_transaction"]

_Processor = Callable[[Any], Any] | None


class DriverStatement:
    """``statement`` compiled for ``engine``'s dialect with ``keys`` as its parameters;
    ``returns``: it gives rows back (a ``SELECT``, an ``INSERT … RETURNING``)."""

    def __init__(
        self, statement: ClauseElement, engine: Engine, keys: Sequence[str], *, returns: bool
    ) -> None:
        self.returns = returns
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        types = {name: bind.type for name, bind in compiled.binds.items()}
        missing = sorted(set(names) - set(keys))
        if missing:
            raise ValueError(f"parameters without a value: {missing}")
        self._binds: list[tuple[str, _Processor]] = [
            (name, types[name].dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]

    def parameters(self, row: Mapping[str, object]) -> Sequence[object] | dict[str, object]:
        """``row``'s values as the driver takes them, processed as SQLAlchemy would."""
        if self.positional:
            return [row[n] if p is None else p(row[n]) for n, p in self._binds]
        return {n: row[n] if p is None else p(row[n]) for n, p in self._binds}

    def run(self, cursor: DBAPICursor, row: Mapping[str, object]) -> None:
        cursor.execute(self.sql, self.parameters(row))


@contextmanager
def driver_transaction(engine: Engine) -> Iterator[DBAPICursor]:
    """A cursor in a transaction on a pooled driver connection: committed when the block
    ends, rolled back if it raises; the connection goes back to the pool either way."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            yield cursor
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
    finally:
        connection.close()
