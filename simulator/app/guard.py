"""What every HTTP request to the app passes through before Gradio sees it (an ASGI middleware).

* **Headers**: ``X-Frame-Options: DENY`` and a ``Content-Security-Policy`` that forbids framing
  and plugins, ``nosniff``, ``Referrer-Policy: same-origin``, ``Cache-Control: no-store`` on
  API answers.
* **Routes the app does not use are closed**: Gradio's deep links (``/gradio_api/deep_link`` and
  ``/config?deep_link=``, which replay another page's components without a handler) and
  ``/monitoring``.
* **Signed in, and still allowed**: every API route (queue, calls, uploads, files, reset,
  cancel, the report files) needs the cookie of an active account; a disabled or signed-out
  account gets 401 with a Japanese message. Uploads are for staff who import files (studio,
  accounts) and are capped in size.
* **A page's state belongs to the person who opened it**: Gradio keys ``gr.State`` by a
  ``session_hash`` the browser chooses; the first signed-in user to use a hash owns it, and
  anyone else sending it is refused (so nobody can overwrite or read another person's page).
* **No cross-site requests**: a request whose ``Origin`` is not this host is refused.
* **Sign-in throttling**: after ``MAX_FAILURES`` wrong passwords within ``WINDOW`` seconds for a
  user name, or ``MAX_ADDRESS_FAILURES`` from one address, further attempts are refused for the rest of the window with
  a Japanese message (429); each failure is logged. At most ``VERIFY_CONCURRENCY`` password
  checks run at once (``Services.authenticate_async``), so a burst waits its turn instead of
  starving the turn handlers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from simulator.text import whole_characters

log = logging.getLogger("kasuhara.guard")

MAX_FAILURES = 5  # per user name
MAX_ADDRESS_FAILURES = 30  # per address (an office behind one NAT shares it)
WINDOW = 300.0  # seconds
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
LOGIN_SLOTS = 4  # sign-ins handled at once (each waits for one of Services' password-check slots)
LOGIN_WAIT = 20.0  # seconds a sign-in may wait for a slot before it is told to try again
MAX_OWNED_HASHES = 100_000

CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]

# API routes that need a signed-in, active account (prefixes)
PROTECTED = (
    "/gradio_api/queue",
    "/gradio_api/call",
    "/gradio_api/run",
    "/gradio_api/api",
    "/gradio_api/upload",
    "/gradio_api/file=",
    "/gradio_api/stream",
    "/gradio_api/reset",
    "/gradio_api/cancel",
    "/gradio_api/heartbeat",
    "/gradio_api/info",
    "/kasuhara/",
    "/file=",
    "/upload",
    "/queue",
    "/run",
    "/info",
)
CLOSED = (
    "/gradio_api/deep_link",
    "/monitoring",
    "/gradio_api/monitoring",
    "/gradio_api/mcp",
    "/gradio_api/vibe",
)

# JSON can carry a lone surrogate as an escape (a browser's JSON.stringify writes one as
# 「\\ud800」); no UTF-8 encoder accepts it, so Gradio's event stream would break answering with it.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _without_lone_surrogates(body: bytes) -> bytes:
    """The request's JSON with every lone surrogate in its strings replaced by U+FFFD, for
    every handler at once."""
    try:
        return json.dumps(whole_characters(json.loads(body)), ensure_ascii=False).encode("utf-8")
    except ValueError:
        return body  # not JSON: Gradio answers it as it would


# where the guard leaves the account it checked for the request (an active one, read just now)
SCOPE_USER = "kasuhara.user"
MSG_SIGN_IN = (
    "サインインしてください。サインインし直しても開けない場合は、管理者にアカウントを確認してください。"
)
MSG_CLOSED = "このアドレスは使われていません。"
MSG_OTHER_PAGE = "この画面の状態は別の人のものです。ページを読み込み直してください。"
MSG_ORIGIN = "ほかのサイトからの操作は受け付けません。"
MSG_UPLOAD = "ファイルが大きすぎます（上限 2MB）。"
MSG_UPLOAD_ROLE = "ファイルを送る権限がありません。"
MSG_LOGIN_BUSY = "サインインが混み合っています。数秒待ってからもう一度お試しください。"
MSG_THROTTLED = (
    "サインインの失敗が続いたため、しばらく受け付けません。{minutes}分ほど待ってからお試しください。"
)


class Throttle:
    """Failed sign-ins per user name and per address, in a sliding window."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        max_address: int = MAX_ADDRESS_FAILURES,
    ) -> None:
        self.max = max_failures
        self.max_address = max_address
        self.window = window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked_for(self, keys: list[str]) -> float:
        """Seconds until an attempt under these keys is accepted again (0: now)."""
        now = time.monotonic()
        with self._lock:
            wait = 0.0
            for k in keys:
                q = self._recent(k, now)
                if len(q) >= (self.max_address if k.startswith("addr:") else self.max):
                    wait = max(wait, self.window - (now - q[0]))
            return wait

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._fails) > 50_000:  # forget the oldest keys rather than grow forever
                for k in list(self._fails)[:10_000]:
                    self._fails.pop(k, None)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._fails.pop(username_key, None)


Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class Guard:
    """The ASGI middleware. ``services`` answers who a cookie belongs to and what they may do."""

    def __init__(self, app: Any, services: Any, throttle: Throttle | None = None) -> None:
        self.app = app
        self.services = services
        self.throttle = throttle or Throttle()
        self._owners: dict[str, str] = {}  # session_hash -> username
        self._login_slots: asyncio.Semaphore | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _headers(scope: dict[str, Any]) -> dict[str, str]:
        return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

    def _user(self, scope: dict[str, Any], headers: dict[str, str]) -> Any:
        """The signed-in, active user of the request's cookie, or None."""
        app = scope.get("app")
        cid = getattr(app, "cookie_id", None)
        if not cid:
            return None
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                cookies[k] = v
        token = cookies.get(f"access-token-{cid}") or cookies.get(f"access-token-unsecure-{cid}")
        if not token:
            return None
        try:  # from the database every time: a disabled or reset account is out at once
            from simulator.app.signin import token_hash

            return self.services.store.token_user(token_hash(token))
        except Exception:  # a database hiccup is not a sign-in
            log.exception("sign-in lookup failed")
            return None

    @staticmethod
    async def _refuse(send: Send, status: int, message: str) -> None:
        body = json.dumps({"error": message, "detail": message}, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"), *HEADERS,
                            (b"cache-control", b"no-store")],
            }
        )  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return b"".join(chunks), False
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", True
            chunks.append(chunk)
            if not msg.get("more_body"):
                return b"".join(chunks), False

    @staticmethod
    def _replay(body: bytes) -> Receive:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        return receive

    def _claim(self, session_hash: str, username: str) -> bool:
        """True when the page state under ``session_hash`` is ``username``'s (first use claims it)."""
        with self._lock:
            owner = self._owners.get(session_hash)
            if owner is None:
                if len(self._owners) > MAX_OWNED_HASHES:
                    for k in list(self._owners)[: MAX_OWNED_HASHES // 10]:
                        self._owners.pop(k, None)
                self._owners[session_hash] = username
                return True
            return owner == username

    # ------------------------------------------------------------------ the middleware

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        headers = self._headers(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))

        if path.startswith(CLOSED) or (path.rstrip("/").endswith("/config") and "deep_link" in query):
            await self._refuse(send, 404, MSG_CLOSED)
            return
        origin = headers.get("origin")
        if origin and method not in ("GET", "HEAD", "OPTIONS"):
            host = headers.get("host", "")
            if origin.split("://", 1)[-1].rstrip("/") != host:
                await self._refuse(send, 403, MSG_ORIGIN)
                return
        if method == "POST" and path.rstrip("/") in ("/login", "/gradio_api/login"):
            await self._login(scope, receive, send, headers)
            return
        user = None
        if path.startswith(PROTECTED):
            user = self._user(scope, headers)
            if user is None:
                await self._refuse(send, 401, MSG_SIGN_IN)
                return
            scope[SCOPE_USER] = user  # the handlers of this request read it (ui.common.current_user)
            if "upload" in path and method == "POST":
                from simulator.app.permissions import Capability

                caps = self.services.capabilities(user)
                if not ({Capability.manage_users, Capability.edit_personas} & set(caps)):
                    await self._refuse(send, 403, MSG_UPLOAD_ROLE)
                    return
                if int(headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
                    await self._refuse(send, 413, MSG_UPLOAD)
                    return
        # the page state (session_hash) is bound to the person who first used it
        hashes = query.get("session_hash", [])
        if method == "POST" and path.startswith(
            ("/gradio_api/queue/join", "/gradio_api/run", "/gradio_api/call")
        ):
            body, too_big = await self._read_body(receive, 8 * 1024 * 1024)
            if too_big:
                await self._refuse(send, 413, "送られた内容が大きすぎます。")
                return
            if _ESCAPED_SURROGATE.search(body):
                body = _without_lone_surrogates(body)
            receive = self._replay(body)
            try:
                data = json.loads(body or b"{}")
                if isinstance(data, dict) and isinstance(data.get("session_hash"), str):
                    hashes = [*hashes, data["session_hash"]]
            except ValueError:
                pass
        if hashes and user is not None:
            for h in hashes:
                if not self._claim(h, user.username):
                    log.warning("user %s sent another person's session_hash", user.username)
                    await self._refuse(send, 403, MSG_OTHER_PAGE)
                    return

        api = path.startswith(("/gradio_api/", "/kasuhara/"))

        async def send_with_headers(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                present = {k.lower() for k, _v in msg.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                if api and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                msg = {**msg, "headers": [*msg.get("headers", []), *extra]}
            await send(msg)

        await self.app(scope, receive, send_with_headers)

    async def _login(
        self, scope: dict[str, Any], receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        body, too_big = await self._read_body(receive, 64 * 1024)
        if too_big:
            await self._refuse(send, 413, "送られた内容が大きすぎます。")
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        username = (form.get("username") or [""])[0].strip()
        client = scope.get("client") or ("?", 0)
        address = str(client[0])  # behind a proxy, run uvicorn with --proxy-headers for the real one
        keys = [f"user:{username.lower()}", f"addr:{address}"]
        wait = self.throttle.blocked_for(keys)
        if wait > 0:
            log.warning("sign-in refused (throttled): user=%r address=%s", username, address)
            await self._refuse(send, 429, MSG_THROTTLED.format(minutes=max(1, round(wait / 60))))
            return
        # a burst of sign-ins waits its turn here; past LOGIN_WAIT it is told so, in Japanese
        if self._login_slots is None:
            self._login_slots = asyncio.Semaphore(LOGIN_SLOTS)
        try:
            await asyncio.wait_for(self._login_slots.acquire(), LOGIN_WAIT)
        except TimeoutError:
            await self._refuse(send, 503, MSG_LOGIN_BUSY)
            return
        try:
            await self._login_checked(scope, body, send, keys, username, address)
        finally:
            self._login_slots.release()

    async def _login_checked(
        self, scope: dict[str, Any], body: bytes, send: Send, keys: list[str], username: str, address: str
    ) -> None:
        status = {"code": 0}

        async def watch(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = int(msg["status"])
                msg = {**msg, "headers": [*msg.get("headers", []), *HEADERS]}
            await send(msg)

        await self.app(scope, self._replay(body), watch)
        if status["code"] == 200:
            self.throttle.succeeded(keys[0])
        else:
            self.throttle.failed(keys)
            log.warning("sign-in failed: user=%r address=%s", username, address)
            try:
                self.services.sign_in_failed(username, address)
            except Exception:
                log.exception("could not record the failed sign-in")
