"""Gradio's API endpoints called directly give a trainee no more than the page does."""

from __future__ import annotations

import pytest
from gradio_client import Client

from simulator.engine import Engine
from simulator.library import load_personas
from simulator.store import Store
from tests.browser.conftest import PASSWORD, AppServer

PERSONA_ID = sorted(load_personas())[0]


@pytest.fixture(scope="module")
def satos_session(app_server: AppServer) -> str:
    store = Store(app_server.db_url)
    sato = store.find_user("sato")
    assert sato is not None
    engine = Engine(voice="scripted", judge="rules")
    try:
        s = engine.start(PERSONA_ID, seed=1, user_id=sato.id)
        store.create_session(s, sato)
        t = engine.take_turn(s, "お話は伺います。ただ、ご要望にはお応えできません。秘密の相談内容です。")
        store.record_turn(s, sato, t)
    finally:
        engine.close()
    return s.id


def client(app_server: AppServer, user: str) -> Client:
    return Client(app_server.url, auth=(user, PASSWORD), verbose=False, analytics_enabled=False)


def test_api_requires_sign_in(app_server: AppServer) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; what matters is no data
        Client(app_server.url, verbose=False, analytics_enabled=False).predict(api_name="/history")


def test_trainee_cannot_read_another_trainees_report_through_the_api(
    app_server: AppServer, satos_session: str
) -> None:
    kato = client(app_server, "kato")
    with pytest.raises(Exception) as err:
        kato.predict(satos_session, api_name="/report")
    assert "秘密の相談内容" not in str(err.value)
    # Her own view works, which shows the refusal above is about who asks.
    sato = client(app_server, "sato")
    result = sato.predict(satos_session, api_name="/report")
    assert "秘密の相談内容" in str(result[0])


def test_trainee_cannot_file_a_drill_on_another_trainees_session(
    app_server: AppServer, satos_session: str
) -> None:
    kato = client(app_server, "kato")
    with pytest.raises(Exception):  # noqa: B017
        kato.predict(satos_session, "a", "b", "c", "d", "e", "f", "g", api_name="/drill")
    assert Store(app_server.db_url).incident_report(satos_session) is None  # type: ignore[arg-type]


def test_history_api_returns_only_own_sessions(app_server: AppServer, satos_session: str) -> None:
    title = load_personas()[PERSONA_ID].title
    kato = client(app_server, "kato")
    table, _plot, _best, _note = kato.predict(api_name="/history")
    assert title not in str(table)
    sato = client(app_server, "sato")
    table, _plot, _best, _note = sato.predict(api_name="/history")
    assert title in str(table)


def test_report_files_are_made_only_for_someone_who_may_read_the_session(
    app_server: AppServer, satos_session: str
) -> None:
    import urllib.error
    import urllib.request

    url = f"{app_server.url}/kasuhara/report/{satos_session}.md"

    def get(cookies: dict[str, str]) -> tuple[int, str]:
        req = urllib.request.Request(
            url, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8")

    status, body = get({})
    assert status == 401 and "サインイン" in body
    status, body = get(client(app_server, "kato").cookies)
    assert status == 403 and "秘密の相談内容" not in body
    status, body = get(client(app_server, "sato").cookies)
    assert status == 200 and "秘密の相談内容" in body
