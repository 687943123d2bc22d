"""``export_state`` / ``import_state``: the whole trading state as one versioned JSON document.

Exported: runs, order intents and events, fills, position and equity snapshots, strategy
state, errors and alerts (not the health metric samples, which are a pruned history). Each
table is a list of rows, each row a JSON object of its columns: decimals as text, times as
ISO 8601 in UTC. Import validates the whole document, then writes it in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import JSON as SqlJson  # noqa: N811 - JSON the column type, not json the module
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy import exc as sql_errors

from stockyard.store._db import Database
from stockyard.store._errors import StateFormatError, StateNotEmptyError
from stockyard.store._models import AlertRow, UtcDateTime
from stockyard.store._sql import ExactDecimal
from stockyard.store._trading_models import (
    EquitySnapshotRow,
    ErrorRow,
    FillRow,
    OrderEventRow,
    OrderIntentRow,
    PositionSnapshotRow,
    RunRow,
    StrategyStateRow,
)
from stockyard.store._validate import check_row

__all__ = [
    "STATE_FORMAT",
    "STATE_FORMAT_VERSION",
    "STATE_TABLES",
    "dump_state",
    "export_state",
    "import_state",
    "load_state",
]

STATE_FORMAT = "stockyard-state"
STATE_FORMAT_VERSION = 1
_MODELS = (
    RunRow,
    OrderIntentRow,
    OrderEventRow,
    FillRow,
    PositionSnapshotRow,
    EquitySnapshotRow,
    StrategyStateRow,
    ErrorRow,
    AlertRow,
)
STATE_TABLES: tuple[str, ...] = tuple(m.__tablename__ for m in _MODELS)
_SERIAL = {
    "order_intents": "seq",
    "order_events": "id",
    "fills": "seq",
    "position_snapshots": "id",
    "equity_snapshots": "id",
}

# Nullable columns added after format version 1 was fixed: an older document may lack them.
_ADDED_LATER: dict[str, frozenset[str]] = {"runs": frozenset({"specs"})}

Progress = Callable[[str, int], None]
JsonValue = object


def _table(name: str) -> Table:
    model = _MODELS[STATE_TABLES.index(name)]
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _encode(column: Column[object], value: object) -> JsonValue:
    if value is None:
        return None
    if isinstance(column.type, ExactDecimal):
        return str(value)
    if isinstance(column.type, UtcDateTime):
        assert isinstance(value, datetime)
        return value.isoformat()
    return value


def _decimal(value: JsonValue) -> object:
    if not isinstance(value, str):
        raise ValueError(f"must be decimal text, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"is not a decimal: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"must be finite, got {value!r}")
    return number


def _moment(value: JsonValue) -> object:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"must carry a UTC offset, got {value!r}")
    return moment.astimezone(UTC)


def _of(kind: type, label: str) -> Callable[[JsonValue], object]:
    def check(value: JsonValue) -> object:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"must be {label}, got {value!r}")
        return value

    return check


# The first entry whose column type matches decodes (ExactDecimal before its Numeric impl).
_DECODERS: tuple[tuple[type, Callable[[JsonValue], object]], ...] = (
    (ExactDecimal, _decimal),
    (UtcDateTime, _moment),
    (SqlJson, lambda value: value),
    (Boolean, _of(bool, "true or false")),
    (Integer, _of(int, "an integer")),
    (String, _of(str, "a string")),
)


def _decode(column: Column[object], value: JsonValue) -> object:
    if value is None:
        if not column.nullable:
            raise ValueError("must not be null")
        return None
    for kind, decode in _DECODERS:
        if isinstance(column.type, kind):
            return decode(value)
    raise TypeError(f"no codec for column type {column.type!r}")  # a new column type: add one


@contextmanager
def _transaction(database: Database, *, write: bool) -> Iterator[Connection]:
    """One transaction: a consistent snapshot to read, or the write lock held throughout."""
    with database.engine.connect() as connection:
        if database.is_sqlite:
            # pysqlite begins only before DML; begin here so the reads share one snapshot.
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        else:
            connection.execution_options(isolation_level="REPEATABLE READ")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def export_state(database: Database, *, progress: Progress | None = None) -> dict[str, object]:
    """The state in ``database`` as one JSON-ready document, read from one snapshot."""
    tables: dict[str, list[dict[str, JsonValue]]] = {}
    with _transaction(database, write=False) as connection:
        for name in STATE_TABLES:
            table = _table(name)
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            tables[name] = [
                {c.name: _encode(c, row._mapping[c.name]) for c in table.columns} for row in rows
            ]
            if progress is not None:
                progress(name, len(tables[name]))
    return {
        "format": STATE_FORMAT,
        "version": STATE_FORMAT_VERSION,
        "schema": database.revision(),
        "exported_at": datetime.now(UTC).isoformat(),
        "tables": tables,
    }


def dump_state(document: dict[str, object]) -> str:
    """``document`` as JSON text (one table row a line, for diffs)."""
    tables = document["tables"]
    assert isinstance(tables, dict)
    head = {k: v for k, v in document.items() if k != "tables"}
    parts = [json.dumps(head, ensure_ascii=False)[:-1] + ', "tables": {']
    for t, (name, rows) in enumerate(tables.items()):
        lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        body = f"[\n{lines}\n]" if rows else "[]"
        parts.append(f"{',' if t else ''}\n{json.dumps(name)}: {body}")
    parts.append("\n}}\n")
    return "".join(parts)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed")


def load_state(text_: str) -> object:
    """Parse a state document's text; StateFormatError when it is not JSON."""
    try:
        return json.loads(text_, parse_constant=_no_constant)
    except ValueError as exc:
        raise StateFormatError(f"the state file is not valid JSON: {exc}") from None


def _rows(document: object) -> dict[str, list[dict[str, object]]]:
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        raise StateFormatError(f'not a stockyard state document (no "format": "{STATE_FORMAT}")')
    version = document.get("version")
    if version != STATE_FORMAT_VERSION or isinstance(version, bool):
        raise StateFormatError(
            f"state format version {version!r} is not supported; this stockyard reads version "
            f"{STATE_FORMAT_VERSION}"
        )
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise StateFormatError('the state document has no "tables" object')
    missing = [n for n in STATE_TABLES if n not in tables]
    unknown = sorted(set(tables) - set(STATE_TABLES))
    if missing or unknown:
        raise StateFormatError(f"tables missing: {missing or 'none'}; unknown: {unknown or 'none'}")
    decoded: dict[str, list[dict[str, object]]] = {}
    for name in STATE_TABLES:
        rows = tables[name]
        if not isinstance(rows, list):
            raise StateFormatError(f"table {name!r} must be a list of rows")
        columns = {c.name: c for c in _table(name).columns}
        decoded[name] = []
        later = _ADDED_LATER.get(name, frozenset())
        for index, given in enumerate(rows):
            where = f"{name} row {index}"
            row = given
            if isinstance(given, dict) and later - set(given):
                row = {**dict.fromkeys(later - set(given)), **given}
            if not isinstance(row, dict) or set(row) != set(columns):
                got = sorted(row) if isinstance(row, dict) else type(row).__name__
                raise StateFormatError(f"{where}: expected columns {sorted(columns)}, got {got}")
            values: dict[str, object] = {}
            for key, column in columns.items():
                try:
                    values[key] = _decode(column, row[key])
                except ValueError as exc:
                    raise StateFormatError(f"{where}, column {key!r} {exc}") from None
            try:
                check_row(name, values)
            except (ValueError, TypeError, KeyError) as exc:
                raise StateFormatError(f"{where}: {exc}") from None
            decoded[name].append(values)
    return decoded


def import_state(
    database: Database,
    document: object,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write ``document`` into ``database``; rows written per table.

    The whole document is validated first, then written in one transaction: a bad document
    (StateFormatError) or a database that holds state already (StateNotEmptyError, unless
    ``replace``, which deletes that state first) changes nothing.
    """
    rows = _rows(document)
    try:
        with _transaction(database, write=True) as connection:
            if replace:
                for name in reversed(STATE_TABLES):
                    connection.execute(delete(_table(name)))
            else:
                held = [
                    name
                    for name in STATE_TABLES
                    if connection.execute(select(_table(name)).limit(1)).first() is not None
                ]
                if held:
                    raise StateNotEmptyError(
                        f"the state database already holds {', '.join(held)}; nothing was "
                        "imported (use --replace to overwrite it)"
                    )
            for name in STATE_TABLES:
                if rows[name]:
                    connection.execute(insert(_table(name)), rows[name])
                if progress is not None:
                    progress(name, len(rows[name]))
            if not database.is_sqlite:
                for name, key in _SERIAL.items():
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', '{key}'), "
                            f"COALESCE(MAX({key}), 1), MAX({key}) IS NOT NULL) FROM {name}"
                        )
                    )
    except sql_errors.StatementError as exc:
        raise StateFormatError(
            f"the state document does not fit the database ({type(exc.orig or exc).__name__}: "
            f"{str(exc.orig or exc).splitlines()[0]}); nothing was imported"
        ) from None
    return {name: len(rows[name]) for name in STATE_TABLES}
