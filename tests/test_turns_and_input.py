"""One turn at a time per session (two tabs, two instances), and what a person types is stored
as they meant it or refused in Japanese: never a raw database or encoding error."""

from __future__ import annotations

import pytest

from simulator.app.services import MAX_REPLY_CHARS, ReplyInputError, Services, TurnBusy
from simulator.library import load_personas
from simulator.report_render import render_html
from simulator.store import Store
from simulator.text import clean_input

PERSONA = sorted(load_personas())[0]
REPLY = "お話は伺います。ただ、契約の範囲外のためお受けできません。"


def test_a_second_tab_is_refused_while_a_turn_is_answered_and_nothing_is_lost(svc: Services) -> None:
    u = svc.store.add_user("u", "password-u1")
    s = svc.start(u, PERSONA, seed=1)
    first = svc.reply_stream(u, s.id, REPLY)
    next(first)  # the client's line is being spoken for the first tab
    with pytest.raises(TurnBusy) as err:
        svc.reply(u, s.id, "二つ目のタブからの返答です。")
    assert "返答は入力欄に残してあります" in err.value.message
    with pytest.raises(StopIteration):
        while True:
            next(first)
    stored = svc.load(u, s.id)
    assert [t.trainee for t in stored.turns] == [REPLY], "the first is stored, the second never was"
    svc.reply(u, s.id, "お話は伺いました。記録に残します。")  # and the session goes on
    assert len(svc.load(u, s.id).turns) == 2


def test_two_instances_answering_one_session_store_one_turn(db_url: str, rules_engine: object) -> None:
    a = Services(Store(db_url), rules_engine)  # type: ignore[arg-type]
    b = Services(Store(db_url), rules_engine)  # type: ignore[arg-type]
    u = a.store.add_user("u", "password-u1")
    s = a.start(u, PERSONA, seed=2)
    on_b = b.reply_stream(u, s.id, "インスタンスBからの返答です。")
    next(on_b)  # B has read the session and is answering turn 1
    a.reply(u, s.id, REPLY)  # A stores turn 1 first
    with pytest.raises(TurnBusy) as err:
        while True:
            next(on_b)
    assert "IntegrityError" not in err.value.message and "INSERT" not in err.value.message
    assert [t.trainee for t in a.load(u, s.id).turns] == [REPLY]


def test_a_lone_surrogate_is_stored_as_a_replacement_and_the_report_renders(svc: Services) -> None:
    u = svc.store.add_user("u", "password-u1", display_name="受講 者")
    s = svc.start(u, PERSONA, seed=3)
    svc.reply(u, s.id, "お話は伺います\ud800。ご要望には\u202eお応えできません。")
    stored = svc.load(u, s.id).turns[0].trainee
    assert stored == "お話は伺います\ufffd。ご要望にはお応えできません。"
    svc.end(u, s.id)
    fields = {"when_where": "12月1日\ud83d 10時頃", "requester": "取引先 部長", "employee": "受講 者",
              "manager_instruction": "指示なし（未報告）", "demand": "無償対応", "result": "お断りした", "other": ""}  # fmt: skip
    svc.file_drill(u, s.id, fields)
    html = render_html(svc.report(u, s.id), standalone=True)
    html.encode("utf-8")  # no lone surrogate left anywhere in the page
    assert "\ufffd" in html


def test_a_long_reply_is_refused_by_send_and_by_retry_alike(svc: Services) -> None:
    u = svc.store.add_user("u", "password-u1")
    s = svc.start(u, PERSONA, seed=4)
    svc.reply(u, s.id, REPLY)
    long = "あ" * (MAX_REPLY_CHARS + 1)
    with pytest.raises(ReplyInputError, match="長すぎます"):
        svc.reply(u, s.id, long)
    with pytest.raises(ReplyInputError, match="長すぎます"):
        svc.retry(u, s.id, 1, long)
    with pytest.raises(ReplyInputError, match="空です"):
        svc.retry(u, s.id, 1, " \u3000\n\x00")
    assert len(svc.store.list_sessions(user_id=u.id)) == 1, "no branch was made"
    assert len(svc.load(u, s.id).turns) == 1


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("改行\r\nCR\rLF\n", "改行\nCR\nLF\n"),
        ("制御\x00\x07\x1b[31m文字\x7f", "制御[31m文字"),
        ("右から\u202e左\u2066へ\u2069", "右から左へ"),
        ("絵文字🙇‍♀️とタブ\tはそのまま", "絵文字🙇‍♀️とタブ\tはそのまま"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # kept as typed; escaped when shown
        ("\udc00単独\ud800", "\ufffd単独\ufffd"),
    ],
)
def test_clean_input(typed: str, stored: str) -> None:
    assert clean_input(typed) == stored


def test_a_turn_after_a_postgresql_restart_is_stored(postgres: object, rules_engine: object) -> None:
    """The server restarted under the app: the pool's dead connection is replaced, the write is
    stored, and the session goes on."""
    url = postgres.create_database()  # type: ignore[attr-defined]
    svc = Services(Store(url), rules_engine)  # type: ignore[arg-type]
    u = svc.store.add_user("u", "password-u1")
    s = svc.start(u, PERSONA, seed=5)
    svc.reply(u, s.id, REPLY)
    postgres.restart()  # type: ignore[attr-defined]
    svc.reply(u, s.id, "再起動のあとの返答です。記録に残します。")
    assert [t.trainee for t in svc.load(u, s.id).turns] == [REPLY, "再起動のあとの返答です。記録に残します。"]
    svc.store.engine.dispose()
