from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from stockyard.sandbox import SandboxStateError, StateStore


def test_saved_state_survives_a_new_store_and_clear_forgets_it(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "sandbox.db"
    store = StateStore.at(path)
    assert store.load() is None
    store.save({"version": 1, "exchange": {"orders": [1, 2]}})
    store.save({"version": 1, "exchange": {"orders": [1, 2, 3]}})
    store.close()
    again = StateStore.at(path)
    assert again.load() == {"version": 1, "exchange": {"orders": [1, 2, 3]}}
    again.clear()
    assert again.load() is None
    again.close()


def test_two_names_in_one_file_are_kept_apart(tmp_path: Path) -> None:
    a = StateStore.at(tmp_path / "s.db", name="a")
    b = StateStore.at(tmp_path / "s.db", name="b")
    a.save({"who": "a"})
    b.save({"who": "b"})
    assert a.load() == {"who": "a"}
    assert b.load() == {"who": "b"}
    a.close()
    b.close()


def test_a_file_that_is_not_sqlite_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    path.write_text("not a database\n" * 100)
    with pytest.raises(SandboxStateError, match="move it away"):
        StateStore.at(path)


def test_a_foreign_sandbox_state_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE sandbox_state (id INTEGER PRIMARY KEY, blob TEXT)"))
    engine.dispose()
    with pytest.raises(SandboxStateError, match="not the sandbox's"):
        StateStore.at(path)


def test_a_saved_state_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StateStore.at(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sandbox_state VALUES ('default', 'now', '{oops')"))
    engine.dispose()
    store = StateStore.at(path)
    with pytest.raises(SandboxStateError, match="not JSON"):
        store.load()
    store.close()
