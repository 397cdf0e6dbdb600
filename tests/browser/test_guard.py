"""The holes a security probe of main found, each kept shut (the app in a subprocess, real HTTP).

Deep links closed; every API route needs an active account; a page's state belongs to whoever
opened it; uploads for staff only and capped; no cross-site posts; security headers; sign-in
throttled per user name with a Japanese message and the failures in the audit log."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from simulator.store import Store
from tests.browser.conftest import PASSWORD, AppServer, _serve

pytestmark = pytest.mark.browser


_open: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def http(app: AppServer) -> httpx.Client:
    c = httpx.Client(base_url=app.url, timeout=30)
    _open.append(c)
    return c


def signed_in(app: AppServer, username: str, password: str = PASSWORD) -> httpx.Client:
    c = http(app)
    r = c.post("/login", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return c


def test_every_answer_carries_the_security_headers(app_server: AppServer) -> None:
    anon = http(app_server).get("/")
    me = signed_in(app_server, "sato")
    for r in (anon, me.get("/config"), me.get("/gradio_api/info")):
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_deep_links_and_monitoring_are_closed(app_server: AppServer) -> None:
    me = signed_in(app_server, "sato")
    for path in ("/gradio_api/deep_link?session_hash=abc", "/config?deep_link=abc", "/monitoring",
                 "/gradio_api/monitoring/summary"):  # fmt: skip
        r = me.get(path)
        assert r.status_code == 404, path
        assert "使われていません" in r.json()["error"]


def test_api_routes_need_an_active_account(app_server: AppServer) -> None:
    anon = http(app_server)
    for method, path in (("POST", "/gradio_api/reset"), ("POST", "/gradio_api/cancel"),
                         ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/info"),
                         ("POST", "/gradio_api/queue/join"), ("GET", "/kasuhara/export/sessions.csv")):  # fmt: skip
        r = anon.request(method, path, json={})
        assert r.status_code == 401, path
        assert "サインインしてください" in r.json()["error"]
    # a disabled account's cookie stops working at once; enabled again, it signs in again
    store = Store(app_server.db_url)
    store.add_user("guard_temp", PASSWORD, department="営業部")
    me = signed_in(app_server, "guard_temp")
    assert me.get("/gradio_api/info").status_code == 200
    store.set_active("guard_temp", False)
    assert me.get("/gradio_api/info").status_code == 401
    store.set_active("guard_temp", True)
    assert me.get("/gradio_api/info").status_code == 401, "its old sign-in was revoked"
    assert signed_in(app_server, "guard_temp").get("/gradio_api/info").status_code == 200
    store.engine.dispose()


def test_a_page_state_belongs_to_the_person_who_opened_it(app_server: AppServer) -> None:
    """kato sending sato's session_hash (her page's gr.State) is refused; her page is untouched."""
    from simulator.library import load_personas

    pid = sorted(load_personas())[0]
    store = Store(app_server.db_url)
    kato_user = store.find_user("kato")
    assert kato_user is not None
    before = len(store.list_sessions(user_id=kato_user.id))
    sato = Client(app_server.url, auth=("sato", PASSWORD), verbose=False, analytics_enabled=False)
    sato.predict(api_name=f"/start_{pid}")
    kato = Client(app_server.url, auth=("kato", PASSWORD), verbose=False, analytics_enabled=False)
    kato.session_hash = sato.session_hash
    for api, args in ((f"/start_{pid}", ()), ("/send", ("上書きしようとする返答です。", False, False))):
        with pytest.raises(Exception) as err:  # noqa: PT011 - the refusal's text is checked below
            kato.predict(*args, api_name=api)
        assert "秘密" not in str(err.value)
    chat = sato.predict(
        "お話は伺います。契約の範囲外のためお受けできません。", False, False, api_name="/send"
    )
    text = json.dumps(chat, ensure_ascii=False)
    assert "契約の範囲外" in text and "上書きしようとする" not in text, "her page is hers"
    assert len(store.list_sessions(user_id=kato_user.id)) == before, "kato started nothing"
    store.engine.dispose()


def test_uploads_are_for_staff_and_capped(app_server: AppServer) -> None:
    trainee = signed_in(app_server, "sato")
    r = trainee.post("/gradio_api/upload", files={"files": ("a.csv", b"username\n")})
    assert r.status_code == 403 and "権限" in r.json()["error"]
    store = Store(app_server.db_url)
    if store.find_user("guard_admin") is None:
        store.add_user("guard_admin", PASSWORD, role="admin", department="総務部")
    store.engine.dispose()
    admin = signed_in(app_server, "guard_admin")
    big = admin.post("/gradio_api/upload", files={"files": ("big.csv", b"x" * (3 * 1024 * 1024))})
    assert big.status_code == 413 and "2MB" in big.json()["error"]
    assert admin.post("/gradio_api/upload", files={"files": ("ok.csv", b"username\n")}).status_code == 200


def test_cross_site_posts_are_refused(app_server: AppServer) -> None:
    me = signed_in(app_server, "sato")
    r = me.post("/gradio_api/queue/join", json={}, headers={"Origin": "http://127.0.0.1:1"})
    assert r.status_code == 403 and "ほかのサイト" in r.json()["error"]


def test_the_database_is_readable_by_the_app_only(app_server: AppServer) -> None:
    db = Path(app_server.db_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(db.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(db.parent.stat().st_mode) & 0o077 == 0


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """An app of its own: the throttle's counts must not spill into other tests."""
    yield from _serve(tmp_path_factory.mktemp("appdata_guard"), {})


def test_sign_in_is_throttled_per_user_with_a_japanese_message(fresh_app: AppServer) -> None:
    c = http(fresh_app)
    for _ in range(5):
        assert c.post("/login", data={"username": "sato", "password": "wrong-password"}).status_code != 200
    r = c.post("/login", data={"username": "sato", "password": PASSWORD})
    assert r.status_code == 429, "the right password waits too, once the limit is reached"
    assert "しばらく受け付けません" in r.json()["detail"]
    # another person signs in meanwhile
    assert c.post("/login", data={"username": "kato", "password": PASSWORD}).status_code == 200
    store = Store(fresh_app.db_url)
    sato = store.find_user("sato")
    assert sato is not None
    failures = store.audit_entries(subject_user_id=sato.id, action="sign_in_failed")
    assert len(failures) == 5 and all(json.dumps(e["detail"]).find("127.0.0.1") > 0 for e in failures)
    store.engine.dispose()
