"""The bad-input corpus (tests/data/bad_inputs.json) through the running app's API, as a
browser sends it: every input as a reply (``/send``) and as 報告 fields (``/drill``), then the
report read back (``/report``). Expected: no server error (nothing in the app's log either), a
Japanese message where an input is refused, every other reply stored as typed (cleaned of what
cannot be stored), and no typed markup live in the report."""

from __future__ import annotations

import json
import re
import ssl
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from simulator.library import load_personas
from simulator.paths import ROOT
from simulator.store import Store
from simulator.text import clean_input
from tests.browser.conftest import PASSWORD, AppServer

pytestmark = pytest.mark.browser

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "bad_inputs.json").read_text(encoding="utf-8"))[
    "inputs"
]
PERSONA = sorted(load_personas())[0]
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
INTERNALS = re.compile(r"Traceback|Error:|Exception|sqlalchemy|\[SQL|File \"", re.I)
LINK = re.compile(r"(href|src)\s*=\s*[\"']?\s*(javascript|vbscript|data):", re.I)
TLS = ssl.create_default_context()  # one for the whole test (gradio_client makes one a request)


def text_of(entry: dict[str, Any]) -> str:
    return entry["text"] if "text" in entry else entry["repeat"] * entry["times"]


def _report_html(c: Client, sid: str) -> str:
    """The report as the page shows it (the HTML output of ``/report``; the other outputs are
    text that Gradio never reads as markup, such as the retry picker's labels)."""
    out = c.predict(sid, api_name="/report")
    page = out[0] if isinstance(out, list | tuple) else out
    assert isinstance(page, str) and "kasuhara-report" in page
    return page


def _start(c: Client, store: Store, user: Any) -> str:
    """A new practice through the API; its session id (the newest of the user's)."""
    c.predict(api_name=f"/start_{PERSONA}")
    return str(store.list_sessions(user_id=user.id, limit=1)[0]["id"])


def _assert_not_live(page: str) -> None:
    """No typed markup reached the report as markup (typed markup shows escaped, as text)."""
    m = LINK.search(page)
    assert not m, page[max(0, m.start() - 300) : m.end() + 100]
    assert "<script>alert" not in page and "<img src=x onerror" not in page


def _assert_no_server_error(app: AppServer, log_start: int) -> None:
    tail = app.log.read_bytes()[log_start:].decode("utf-8", "replace")
    assert "Traceback" not in tail, tail[-3000:]


def _as_a_browser_sends_it(json: Any) -> tuple[dict[str, str], Any]:
    """JSON as a browser's JSON.stringify writes it: a lone surrogate (「\\ud800」) escaped, not
    refused (httpx encodes to UTF-8 first, which cannot hold one)."""
    import json as _json

    from httpx._content import ByteStream

    body = _json.dumps(json, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode()
    return {"Content-Length": str(len(body)), "Content-Type": "application/json"}, ByteStream(body)


@pytest.fixture()
def trainee(app_server: AppServer, monkeypatch: pytest.MonkeyPatch) -> tuple[Client, Store, Any]:
    import httpx._content

    monkeypatch.setattr(httpx._content, "encode_json", _as_a_browser_sends_it)
    store = Store(app_server.db_url)
    user = store.find_user("badinput") or store.add_user(
        "badinput", PASSWORD, department="営業部", display_name="入力 試験"
    )
    c = Client(app_server.url, auth=("badinput", PASSWORD), verbose=False, analytics_enabled=False,
               ssl_verify=TLS, httpx_kwargs={"timeout": 60})  # type: ignore[arg-type]  # fmt: skip
    return c, store, user


def test_every_input_as_a_reply_through_the_api_is_stored_as_typed_or_refused_in_japanese(
    app_server: AppServer, trainee: tuple[Client, Store, Any]
) -> None:
    c, store, user = trainee
    log_start = app_server.log.stat().st_size
    sid = _start(c, store, user)
    stored = refused = 0
    sessions = [sid]
    for entry in CORPUS:
        text = text_of(entry)
        before = len(store.load_session(sid).turns)
        try:
            c.predict(text, True, False, api_name="/send")
        except Exception as e:  # a refusal shown to the trainee: Japanese, no internals
            msg = str(e)
            assert JAPANESE.search(msg) and not INTERNALS.search(msg), (entry, msg)
        session = store.load_session(sid)
        if len(session.turns) == before:
            # refused (empty, whitespace only, too long): the chat is as it was
            assert entry["category"] in ("empty", "long") or not clean_input(text).strip(), entry
            refused += 1
        else:
            assert session.turns[-1].trainee == clean_input(text), entry
            stored += 1
        if session.outcome.value != "in_progress":
            sid = _start(c, store, user)
            sessions.append(sid)
    assert stored > 150 and refused >= 10
    # the reports of those sessions, read back through the API: nothing typed is live markup
    for s in sessions[:-1]:
        _assert_not_live(_report_html(c, s))
    _assert_no_server_error(app_server, log_start)


def test_every_input_in_a_report_field_through_the_api_is_kept_or_refused_in_japanese(
    app_server: AppServer, trainee: tuple[Client, Store, Any]
) -> None:
    c, store, user = trainee
    log_start = app_server.log.stat().st_size
    sid = _start(c, store, user)
    c.predict("お話は伺います。ただ、契約の範囲外のためお受けできません。", True, False, api_name="/send")
    c.predict(api_name="/end")
    fields = [
        "12月1日 10時頃、先方の会議室",
        "取引先 部長",
        "入力 試験",
        "指示なし（未報告）",
        "無償対応",
        "お断りした",
        "",
    ]
    kept = refused = 0
    for n, entry in enumerate(CORPUS):
        text = text_of(entry)
        values = list(fields)
        values[n % len(values)] = text
        try:
            c.predict(sid, *values, api_name="/drill")
        except Exception as e:
            msg = str(e)
            assert JAPANESE.search(msg) and not INTERNALS.search(msg), (entry, msg)
            refused += 1
            continue
        kept += 1
    assert kept > 150
    _assert_not_live(_report_html(c, sid))
    _assert_no_server_error(app_server, log_start)


def _staff(app_server: AppServer, name: str, role: str) -> Client:
    store = Store(app_server.db_url)
    if store.find_user(name) is None:
        store.add_user(name, PASSWORD, role=role, department="研修部", display_name=f"{name} 担当")
    return Client(app_server.url, auth=(name, PASSWORD), verbose=False, analytics_enabled=False,
                  ssl_verify=TLS, httpx_kwargs={"timeout": 60})  # type: ignore[arg-type]  # fmt: skip


def test_every_input_in_a_persona_file_through_the_studio_is_checked_in_japanese(
    app_server: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each input spliced into a persona's YAML as typed (which may break the YAML) and as a
    quoted title: the studio's check answers with its problems, in Japanese, never an error."""
    import httpx._content

    monkeypatch.setattr(httpx._content, "encode_json", _as_a_browser_sends_it)
    trainer = _staff(app_server, "studio_bad", "trainer")
    log_start = app_server.log.stat().st_size
    base = (ROOT / "personas" / f"{PERSONA}.yaml").read_text(encoding="utf-8")
    title = next(line for line in base.splitlines() if line.startswith("title:"))
    accepted = 0
    for entry in CORPUS:
        text = text_of(entry)[:20_000]
        for yaml_text in (base.replace(title, f"title: {text}", 1),
                          base.replace(title, f"title: {json.dumps(text)}", 1)):  # fmt: skip
            out = trainer.predict(yaml_text, api_name="/studio_check")
            problems = str(out[0] if isinstance(out, list | tuple) else out)
            if problems.startswith("✓"):
                accepted += 1
            else:
                assert problems.startswith("⚠") and JAPANESE.search(problems), (entry, problems[:300])
                assert not INTERNALS.search(problems), (entry, problems[:300])
    assert accepted > 100  # most inputs are a title the persona may carry, quoted
    _assert_no_server_error(app_server, log_start)


def test_a_csv_import_of_the_corpus_through_the_app_is_refused_row_by_row_in_japanese(
    app_server: AppServer, tmp_path: Path
) -> None:
    """Every input as a user name, display name and department in one CSV, uploaded as an
    administrator: refused before anything is added, the rows named in Japanese."""
    from gradio_client import handle_file

    admin = _staff(app_server, "admin_bad", "admin")
    store = Store(app_server.db_url)
    before = len(store.list_users())
    log_start = app_server.log.stat().st_size
    rows = ["username,display_name,role,department"]
    for n, entry in enumerate(CORPUS):
        text = clean_input(text_of(entry)[:300]).replace('"', '""')
        rows.append(f'"{text}","{text}",trainee,"{text}"')
        rows.append(f'bulk{n:03d},"{text}",trainee,"{text}"')
    path = tmp_path / "users.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(Exception) as refused:
        admin.predict(handle_file(str(path)), api_name="/users_csv")
    assert JAPANESE.search(str(refused.value)) and not INTERNALS.search(str(refused.value)), str(
        refused.value
    )
    assert len(store.list_users()) == before  # every row is checked first: nothing was added
    _assert_no_server_error(app_server, log_start)
