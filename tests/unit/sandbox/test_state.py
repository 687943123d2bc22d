from __future__ import annotations

from pathlib import Path

from stockyard.sandbox import StateStore


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
