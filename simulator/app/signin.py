"""Sign-in that holds across app instances.

Gradio's own sign-in keeps its session tokens in a dict inside one process and names its
cookie after a random id drawn at start, so a trainee signed in on one instance is a
stranger to the next. Here the tokens live in the database (only their SHA-256 is stored)
and the cookie's name comes from a secret the instances share, so any instance behind a
load balancer verifies a cookie another one issued. A token lasts ``TOKEN_HOURS``; a
disabled account's tokens are deleted. Each instance remembers a verified token for
``CACHE_SECONDS`` (a token revoked on another instance stops working within that time).

Gradio's per-connection state (``gr.State``) and its streams still live in the instance
that serves the page: run several instances with sticky sessions (by cookie) at the load
balancer; when an instance goes away, the trainee reloads, is still signed in, and resumes
the practice from the database (「続きから再開」).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.store import Store

TOKEN_HOURS = 12
CACHE_SECONDS = 10.0


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


_hash = token_hash


class SharedTokens(MutableMapping[str, str]):
    """Gradio's ``app.tokens`` (token → username), kept in the database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, tuple[str, float]] = {}

    def __setitem__(self, token: str, username: str) -> None:
        user = self.store.find_user(username)
        if user is None:
            return
        self.store.add_token(_hash(token), user.id, datetime.now(UTC) + timedelta(hours=TOKEN_HOURS))
        self._seen[token] = (username, time.monotonic())

    def _lookup(self, token: str) -> str | None:
        hit = self._seen.get(token)
        if hit is not None and time.monotonic() - hit[1] < CACHE_SECONDS:
            return hit[0]
        user = self.store.token_user(_hash(token))
        if user is None:
            self._seen.pop(token, None)
            return None
        self._seen[token] = (user.username, time.monotonic())
        return user.username

    def __getitem__(self, token: str) -> str:
        name = self._lookup(token) if isinstance(token, str) and token else None
        if name is None:
            raise KeyError(token)
        return name

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and bool(token) and self._lookup(token) is not None

    def __delitem__(self, token: str) -> None:
        self._seen.pop(token, None)
        self.store.delete_token(_hash(token))

    def __iter__(self) -> Iterator[str]:
        # the tokens this instance has verified (Gradio's sign-out walks them to sign a user
        # out of every session it knows)
        return iter(list(self._seen))

    def __len__(self) -> int:
        return len(self._seen)


def cookie_id(store: Store) -> str:
    """The cookie-name suffix every instance uses (made once, kept in the database)."""
    return store.secret("gradio_cookie_id", lambda: secrets.token_urlsafe(32))


def install(app: Any, store: Store) -> None:
    """Make a launched Gradio app verify sign-in against the database."""
    app.tokens = SharedTokens(store)
    app.cookie_id = cookie_id(store)
