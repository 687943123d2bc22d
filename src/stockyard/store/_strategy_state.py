"""Per-strategy state that survives restarts: one JSON document per strategy id."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select

from stockyard.core import Clock, WallClock
from stockyard.store._db import Database
from stockyard.store._sql import dialect_insert
from stockyard.store._trading_models import StrategyStateRow

__all__ = ["SqlStrategyStateStore"]


def _as_json(strategy_id: str, state: Mapping[str, object]) -> dict[str, object]:
    """``state`` as a plain dict, or ValueError when JSON would not give it back unchanged."""
    plain = dict(state)
    try:
        text = json.dumps(plain, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"state of strategy {strategy_id!r} is not JSON ({exc}); keep numbers as int, "
            "float or decimal text, keys as str"
        ) from None
    if json.loads(text) != plain:
        raise ValueError(
            f"state of strategy {strategy_id!r} would not round-trip through JSON "
            "(non-str keys or tuples?); use str keys and lists"
        )
    return plain


class SqlStrategyStateStore:
    """``load``/``save`` a strategy's state. Last write wins; ``version`` counts the saves."""

    def __init__(self, database: Database, *, clock: Clock | None = None) -> None:
        self._db = database
        self._clock = clock if clock is not None else WallClock()

    def load(self, strategy_id: str) -> dict[str, object] | None:
        """The state last saved for ``strategy_id``; None when none was."""
        with self._db.session() as session:
            row = session.get(StrategyStateRow, strategy_id)
            return None if row is None else dict(row.state)

    def save(self, strategy_id: str, state: Mapping[str, object]) -> None:
        """Replace ``strategy_id``'s state (committed on return); ValueError if not JSON."""
        plain = _as_json(strategy_id, state)
        table = StrategyStateRow.__table__
        statement = dialect_insert(self._db.is_sqlite, StrategyStateRow).values(
            strategy_id=strategy_id, state=plain, version=1, updated_at=self._clock.now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["strategy_id"],
            set_={
                "state": statement.excluded.state,
                "version": table.c.version + 1,
                "updated_at": statement.excluded.updated_at,
            },
        )
        with self._db.engine.begin() as connection:
            connection.execute(statement)

    def version(self, strategy_id: str) -> int:
        """How many times ``strategy_id``'s state was saved; 0 when never."""
        statement = select(StrategyStateRow.version).where(
            StrategyStateRow.strategy_id == strategy_id
        )
        with self._db.engine.connect() as connection:
            value = connection.execute(statement).scalar()
        return 0 if value is None else int(value)
