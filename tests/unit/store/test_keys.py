"""API keys: made with a secret shown once, stored hashed, verified, revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from stockyard.store import ApiKeyError, KeyScope, SqlKeyStore, open_database


def test_a_key_is_shown_once_stored_hashed_and_verified(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'state.db'}")
    keys = SqlKeyStore(database)
    made, secret = keys.create("alice", "trade")
    assert made.scope is KeyScope.TRADE
    assert secret.startswith(f"sy_{made.key_id}_")
    with database.session() as session:
        stored = session.execute(text("SELECT * FROM api_keys")).mappings().one()
    assert secret.split("_", 2)[2] not in str(dict(stored))
    found = keys.verify(secret)
    assert found is not None
    assert found.name == "alice"
    assert keys.verify(secret + "x") is None
    assert keys.verify("sy_nothing_here") is None
    assert keys.verify("") is None


def test_a_revoked_key_no_longer_verifies_and_stays_listed(tmp_path: Path) -> None:
    keys = SqlKeyStore(open_database(f"sqlite:///{tmp_path / 'state.db'}"))
    _made, secret = keys.create("bob", KeyScope.READ)
    revoked = keys.revoke("bob")
    assert revoked.revoked_at is not None
    assert keys.verify(secret) is None
    assert [k.name for k in keys.list()] == ["bob"]
    assert keys.list(include_revoked=False) == []
    assert not keys.any_active()


def test_a_duplicate_name_a_bad_scope_and_an_unknown_key_are_clear_errors(tmp_path: Path) -> None:
    keys = SqlKeyStore(open_database(f"sqlite:///{tmp_path / 'state.db'}"))
    keys.create("carol", "admin")
    with pytest.raises(ApiKeyError, match="exists already"):
        keys.create("carol", "read")
    with pytest.raises(ApiKeyError, match="scope must be"):
        keys.create("dave", "root")
    with pytest.raises(ApiKeyError, match="no key named"):
        keys.revoke("nobody")
    assert [k.name for k in keys.list()] == ["carol"]


def test_scopes_are_ordered_read_trade_admin() -> None:
    assert KeyScope.ADMIN.allows(KeyScope.TRADE)
    assert KeyScope.TRADE.allows(KeyScope.READ)
    assert not KeyScope.READ.allows(KeyScope.TRADE)
    assert not KeyScope.TRADE.allows(KeyScope.ADMIN)
