"""Shared by the tabs: who is signed in, and how an error reaches the browser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NoReturn

import gradio as gr

from simulator.app.guard import SCOPE_USER
from simulator.app.permissions import AccessDenied, Capability
from simulator.app.services import Services
from simulator.report import JST
from simulator.store import User
from simulator.ui import strings as S


def fail(message: str) -> NoReturn:
    """Stop the handler and show ``message`` to the user (also to an API caller)."""
    raise gr.Error(message, title=S.ERROR_TITLE, print_exception=False)


def warn(message: str) -> None:
    """A Japanese toast (Gradio's own title would read 「Warning」)."""
    gr.Warning(message, title=S.WARNING_TITLE)


def local_time(dt: datetime) -> datetime:
    """A stored time (UTC; SQLite gives it back without a zone) in Japan time, the zone the
    reports are dated in (the server's own zone may be UTC)."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(JST)


def current_user(services: Services, request: gr.Request | None) -> User:
    """The signed-in user, read on the server for every handler."""
    username = getattr(request, "username", None) if request is not None else None
    # the guard read this request's account from the database as it came in: not again
    scope = getattr(getattr(request, "request", None), "scope", None)
    checked = scope.get(SCOPE_USER) if isinstance(scope, dict) else None
    if checked is not None and username and checked.username == username:
        return checked  # type: ignore[no-any-return]
    try:
        return services.user(username)
    except AccessDenied:
        fail(S.NOT_SIGNED_IN)


def staff_user(services: Services, request: gr.Request | None, cap: Capability) -> User:
    """The signed-in user, if they hold ``cap`` (the service checks again; this gives the
    refusal a Japanese message)."""
    user = current_user(services, request)
    if cap not in services.capabilities(user):
        fail(S.NO_PERMISSION)
    return user
