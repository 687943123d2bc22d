"""Sign-in for the dashboard: one-time links and API keys exchanged for a session cookie.

As Jupyter does: ``up`` prints a link carrying a short-lived, single-use token; opening it
swaps the token for an HttpOnly, SameSite=Strict session cookie, and the page carries the
session's CSRF token, which every state-changing request sends back in ``X-CSRF-Token``.
An API key typed into the sign-in form is verified once and never stored in the browser:
the session only remembers the key's name and scope.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "SCOPES",
    "KeyVerifier",
    "Session",
    "SignIn",
    "link_file",
    "local_admin_token",
    "scope_allows",
    "write_sign_in_link",
]

COOKIE = "stockyard_session"
CSRF_HEADER = "X-CSRF-Token"
SCOPES = ("read", "trade", "admin")

KeyVerifier = Callable[[str], "tuple[str | None, str, str] | None"]
"""An API key's (key id, name, scope) when it is valid and not revoked, else None."""


def scope_allows(scope: str, needed: str) -> bool:
    """Whether ``scope`` may do what ``needed`` allows (admin ⊃ trade ⊃ read)."""
    if scope not in SCOPES or needed not in SCOPES:
        return False
    return SCOPES.index(scope) >= SCOPES.index(needed)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: who (the key's name), what it may do, its CSRF token."""

    id: str
    key_id: str | None
    name: str
    scope: str
    csrf: str
    expires_at: float

    def may(self, needed: str) -> bool:
        """Whether this session's scope covers ``needed`` (read, trade or admin)."""
        return scope_allows(self.scope, needed)

    def csrf_ok(self, presented: str | None) -> bool:
        """Whether ``presented`` is this session's CSRF token (constant time)."""
        return presented is not None and hmac.compare_digest(presented, self.csrf)


class SignIn:
    """One-time link tokens and sessions, in memory (a restart signs everyone out).

    ``verify`` checks an API key against the key store; without it only links sign in.
    """

    def __init__(
        self,
        *,
        verify: KeyVerifier | None = None,
        link_ttl_s: float = 300.0,
        session_ttl_s: float = 12 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if link_ttl_s <= 0 or session_ttl_s <= 0:
            raise ValueError("link_ttl_s and session_ttl_s must be > 0")
        self.verify = verify
        self._link_ttl = link_ttl_s
        self._session_ttl = session_ttl_s
        self._clock = clock
        self._links: dict[str, tuple[str | None, str, str, float]] = {}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    @property
    def accepts_keys(self) -> bool:
        """Whether an API key can be typed in to sign in."""
        return self.verify is not None

    def link_token(
        self, *, name: str = "local", scope: str = "admin", key_id: str | None = None
    ) -> str:
        """A single-use token for a sign-in link, valid ``link_ttl_s`` seconds, signing in
        as the key ``key_id`` (its ``name`` and ``scope``)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._links[token] = (key_id, name, scope, self._clock() + self._link_ttl)
        return token

    def redeem(self, token: str) -> Session | None:
        """The new session a link token opens; None when unknown, used or expired."""
        with self._lock:
            entry = self._links.pop(token, None)
        if entry is None or entry[3] < self._clock():
            return None
        return self._open(entry[0], entry[1], entry[2])

    def with_key(self, key: str) -> Session | None:
        """A session for a valid API key; None when the key is unknown or revoked."""
        if self.verify is None or not key:
            return None
        found = self.verify(key)
        return None if found is None else self._open(*found)

    def session(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value; None when unknown or expired."""
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None and found.expires_at < self._clock():
                del self._sessions[session_id]
                return None
        return found

    def end(self, session_id: str | None) -> None:
        """Sign a session out (nothing happens for an unknown one)."""
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)

    def _open(self, key_id: str | None, name: str, scope: str) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            key_id=key_id,
            name=name,
            scope=scope,
            csrf=secrets.token_urlsafe(32),
            expires_at=self._clock() + self._session_ttl,
        )
        with self._lock:
            self._sessions[session.id] = session
        return session


def local_admin_token(signin: SignIn, verify: KeyVerifier, key_file: Path) -> str | None:
    """A one-time link token for the local user: it signs in as the admin key written to
    ``key_file`` by the first ``up``; None when that file is gone or its key revoked."""
    try:
        key = key_file.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    found = verify(key)
    if found is None:
        return None
    key_id, name, scope = found
    return signin.link_token(name=name, scope=scope, key_id=key_id)


def link_file(home: Path) -> Path:
    """``home/run/dashboard.link``: where a hub run apart from ``up`` (under supervisord)
    leaves its one-time sign-in link for ``up`` to print (mode 0600)."""
    return Path(home).expanduser() / "run" / "dashboard.link"


def write_sign_in_link(signin: SignIn, *, url: str, key_file: Path, home: Path) -> str | None:
    """Mint a one-time link for the local admin key (see :func:`local_admin_token`) and
    leave it in :func:`link_file` (mode 0600); the link, or None without a usable key."""
    if signin.verify is None:
        return None
    token = local_admin_token(signin, signin.verify, key_file)
    if token is None:
        return None
    link = f"{url}/signin?token={token}"
    target = link_file(home)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.unlink(missing_ok=True)
    with target.open("x", encoding="utf-8") as out:
        target.chmod(0o600)
        out.write(link + "\n")
    return link
