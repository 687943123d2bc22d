from __future__ import annotations

from pathlib import Path

import pytest

from stockyard.dashboard import (
    SignIn,
    link_file,
    local_admin_token,
    scope_allows,
    write_sign_in_link,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _keys(key: str) -> tuple[str | None, str, str] | None:
    return {"rk": ("k1", "reader", "read"), "ak": ("k2", "boss", "admin")}.get(key)


def test_a_link_token_opens_one_session_and_then_is_spent() -> None:
    signin = SignIn()
    token = signin.link_token(name="local", scope="admin")
    session = signin.redeem(token)
    assert session is not None
    assert (session.name, session.scope) == ("local", "admin")
    assert signin.redeem(token) is None
    assert signin.session(session.id) == session


def test_an_expired_link_opens_nothing() -> None:
    clock = Clock()
    signin = SignIn(link_ttl_s=60, clock=clock)
    token = signin.link_token()
    clock.now += 61
    assert signin.redeem(token) is None


def test_a_session_expires_and_a_signed_out_one_is_gone() -> None:
    clock = Clock()
    signin = SignIn(session_ttl_s=10, clock=clock)
    first = signin.redeem(signin.link_token())
    second = signin.redeem(signin.link_token())
    assert first is not None
    assert second is not None
    signin.end(first.id)
    assert signin.session(first.id) is None
    clock.now += 11
    assert signin.session(second.id) is None
    assert signin.session(None) is None


def test_an_api_key_signs_in_with_its_own_scope_and_a_bad_one_does_not() -> None:
    signin = SignIn(verify=_keys)
    reader = signin.with_key("rk")
    assert reader is not None
    assert reader.key_id == "k1"
    assert reader.may("read")
    assert not reader.may("trade")
    assert signin.with_key("nope") is None
    assert signin.with_key("") is None
    assert SignIn().with_key("ak") is None  # no key store: links only
    assert not SignIn().accepts_keys


def test_the_csrf_token_must_match_exactly() -> None:
    signin = SignIn()
    session = signin.redeem(signin.link_token())
    assert session is not None
    assert session.csrf_ok(session.csrf)
    assert not session.csrf_ok(None)
    assert not session.csrf_ok(session.csrf + "x")


def test_scopes_nest_admin_over_trade_over_read() -> None:
    assert scope_allows("admin", "trade")
    assert scope_allows("trade", "read")
    assert not scope_allows("read", "trade")
    assert not scope_allows("root", "read")


def test_a_bad_scope_or_lifetime_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="scope must be one of"):
        SignIn().link_token(scope="root")
    with pytest.raises(ValueError, match="must be > 0"):
        SignIn(link_ttl_s=0)


def test_the_local_link_signs_in_as_the_admin_key_of_the_file_and_is_left_for_up(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "run" / "admin.key"
    key_file.parent.mkdir()
    key_file.write_text("ak\n", encoding="utf-8")
    signin = SignIn(verify=_keys)
    link = write_sign_in_link(signin, url="http://127.0.0.1:5555", key_file=key_file, home=tmp_path)
    assert link is not None
    assert link_file(tmp_path).read_text(encoding="utf-8") == link + "\n"
    assert link_file(tmp_path).stat().st_mode & 0o777 == 0o600
    session = signin.redeem(link.split("token=")[1])
    assert session is not None
    assert (session.key_id, session.name, session.scope) == ("k2", "boss", "admin")


def test_no_link_without_a_usable_admin_key(tmp_path: Path) -> None:
    signin = SignIn(verify=_keys)
    assert local_admin_token(signin, _keys, tmp_path / "missing.key") is None
    revoked = tmp_path / "old.key"
    revoked.write_text("revoked\n", encoding="utf-8")
    assert write_sign_in_link(signin, url="u", key_file=revoked, home=tmp_path) is None
    assert not link_file(tmp_path).exists()
