"""The store: accounts with hashed passwords, turns written at once, resume, privacy."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from simulator.app.permissions import AccessDenied
from simulator.app.services import Services
from simulator.engine import Engine
from simulator.library import load_personas
from simulator.models import CRITERIA, Outcome
from simulator.store import Store
from simulator.store import schema as t

PERSONA = sorted(load_personas())[0]


@pytest.fixture()
def db(db_url: str) -> str:
    """A fresh database: each test runs on SQLite and on PostgreSQL (tests/conftest.py)."""
    return db_url


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


def test_passwords_are_hashed_and_checked(db: str) -> None:
    s = Store(db)
    s.add_user("sato", "correct horse", role="trainee", department="営業部")
    with s.engine.connect() as conn:
        stored = conn.execute(select(t.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2") and "correct horse" not in stored
    assert s.authenticate("sato", "correct horse") is not None
    assert s.authenticate("sato", "wrong password") is None
    assert s.authenticate("nobody", "correct horse") is None
    s.set_active("sato", False)
    assert s.authenticate("sato", "correct horse") is None


def test_short_password_and_unknown_role_are_refused(db: str) -> None:
    s = Store(db)
    with pytest.raises(ValueError, match="8文字"):
        s.add_user("a", "short")
    with pytest.raises(ValueError, match="役割"):
        s.add_user("b", "long enough pw", role="boss")


def test_turns_are_written_as_they_happen_and_a_restart_resumes(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("tanaka", "password123", department="開発部")
    session = svc.start(u, PERSONA, seed=3)
    svc.reply(u, session.id, "お話は伺います。ただ、契約の範囲外のご要望はお受けできません。")
    # A new process: a fresh Store on the same file sees the turn and can continue.
    svc2 = Services(Store(db), engine)
    assert svc2.resumable(u) == session.id
    loaded = svc2.load(u, session.id)
    assert len(loaded.turns) == 1 and loaded.turns[0].assessments
    a = loaded.turns[0].assessments[0]
    assert a.rubric_id == "default" and a.rubric_version >= 1 and a.judge.startswith("rules@")
    _, turn2 = svc2.reply(u, session.id, "本日の内容は記録し、上長に報告いたします。")
    assert turn2.index == 2
    rows = svc2.store.score_rows(user_id=u.id)
    assert {r["criterion"] for r in rows} == {"calm", "firm", "contract", "record", "escalation"}
    assert all(
        r["rubric_version"] >= 1 and r["judge"].startswith("rules@") and r["user_role"] == "trainee"
        for r in rows
    )


def test_two_instances_on_one_database_each_see_the_turns_the_other_stored(db: str, engine: Engine) -> None:
    """Each instance keeps the turns it has read; a turn the other one stored since is read."""
    a, b = Services(Store(db), engine), Services(Store(db), engine)
    u = a.store.add_user("kimura", "password123", department="営業部")
    session = a.start(u, PERSONA, seed=5)
    a.reply(u, session.id, "お話は伺います。ただ、契約の範囲外のご要望はお受けできません。")
    assert [t.trainee for t in b.load(u, session.id).turns] == [
        "お話は伺います。ただ、契約の範囲外のご要望はお受けできません。"
    ]
    b.reply(u, session.id, "本日のやり取りは記録に残します。")
    b.reply(u, session.id, "この件は上長に報告いたします。")
    seen = a.load(u, session.id)  # a kept turn 1: turns 2 and 3 come from b
    assert [t.index for t in seen.turns] == [1, 2, 3]
    assert seen.turns[2].trainee == "この件は上長に報告いたします。"
    assert seen.state == b.load(u, session.id).state
    # a page that changes the session it was given does not change what the next page reads
    seen.turns.clear()
    assert len(a.load(u, session.id).turns) == 3
    _, turn4 = a.reply(u, session.id, "契約書の範囲でご対応いたします。")
    assert turn4.index == 4 and len(b.load(u, session.id).turns) == 4


def test_a_trainee_never_reaches_another_trainees_session(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    a = svc.store.add_user("trainee_a", "password-a1")
    b = svc.store.add_user("trainee_b", "password-b1")
    hr = svc.store.add_user("hr_user", "password-h1", role="hr")
    sa = svc.start(a, PERSONA, seed=1)
    with pytest.raises(AccessDenied):
        svc.load(b, sa.id)
    with pytest.raises(AccessDenied):
        svc.reply(b, sa.id, "代わりに返答します")
    with pytest.raises(AccessDenied):
        svc.report(b, sa.id)
    with pytest.raises(AccessDenied):
        svc.retry(b, sa.id, 1, "やり直し")
    assert [r["id"] for r in svc.history(b)] == []
    assert [r["id"] for r in svc.sessions(b, user_id=a.id)] == [], "a trainee lists only their own"
    assert [r["id"] for r in svc.sessions(hr, user_id=a.id)] == [sa.id]
    # Staff may read (not write) every session.
    assert svc.load(hr, sa.id).id == sa.id
    with pytest.raises(AccessDenied):
        svc.reply(hr, sa.id, "人事が代わりに返答")


def test_retry_from_a_turn_keeps_both_branches(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("suzuki", "password123")
    s = svc.start(u, PERSONA, seed=5)
    svc.reply(u, s.id, "承知しました。今回に限り無料で対応いたします。")
    svc.reply(u, s.id, "わかりました、なんとかします。")
    branch, turn = svc.retry(
        u, s.id, 1, "恐れ入りますが、契約の範囲外のご要望は会社の方針としてお受けできません。"
    )
    assert branch.parent_id == s.id and branch.branch_turn == 1
    assert len(branch.turns) == 1 and turn.index == 1
    assert svc.load(u, s.id).turns[0].trainee.startswith("承知しました")
    rep = svc.report(u, branch.id)
    assert len(rep.branches) == 2
    firm = [b.report.criteria["firm"].mean for b in rep.branches]
    assert firm[1] > firm[0]


def test_end_button_ends_and_scores_the_session(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("ito", "password123")
    s = svc.start(u, PERSONA, seed=2)
    svc.reply(u, s.id, "ご不満の点は承知しました。")
    ended = svc.end(u, s.id)
    assert ended.outcome is Outcome.stopped, "pressing 'end' stops the practice; it is not a policy close"
    row = svc.history(u)[0]
    assert row["outcome"] == "stopped" and row["overall"] is not None


def test_a_reply_is_saved_even_if_the_browser_leaves_mid_line(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("mori", "password123")
    s = svc.start(u, PERSONA, seed=4)
    stream = svc.reply_stream(u, s.id, "ご不満の点は承知しました。")
    first = next(stream)
    stream.close()  # what Gradio does when the page is closed mid-answer
    loaded = svc.load(u, s.id)
    assert len(loaded.turns) == 1
    assert loaded.turns[0].trainee == "ご不満の点は承知しました。"
    assert (loaded.turns[0].client_after or loaded.turns[0].closing or "").startswith(first)


def test_streamed_chunks_make_up_the_stored_line(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("abe", "password123")
    s = svc.start(u, PERSONA, seed=6)
    stream = svc.reply_stream(u, s.id, "契約の範囲外ですのでお受けできません。")
    chunks = []
    try:
        while True:
            chunks.append(next(stream))
    except StopIteration as stop:
        _, turn = stop.value
    # a scripted line is known at once: it arrives whole, and is exactly what is stored
    assert len(chunks) == 1
    assert "".join(chunks) == (turn.client_after or turn.closing)


def test_a_retry_of_a_retry_stays_in_the_same_comparison(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("kudo", "password123")
    s = svc.start(u, PERSONA, seed=8)
    svc.reply(u, s.id, "承知しました。今回に限り無償で対応いたします。")
    b1, _ = svc.retry(u, s.id, 1, "前向きに検討いたします。")
    b2, _ = svc.retry(u, b1.id, 1, "契約の範囲外ですので、会社の方針としてお受けできません。")
    labels = [b.label for b in svc.report(u, s.id).branches]
    assert len(labels) == 3 and labels[0].startswith("元のやり取り")
    assert [b.session_id for b in svc.report(u, b2.id).branches] == [s.id, b1.id, b2.id]


def test_a_store_made_by_the_previous_release_upgrades_without_losing_a_row(tmp_path: Path) -> None:
    """tests/fixtures/store_before_002.sqlite3 was written by main before migration 002:
    one trainee, a session, its drill, and a retry branch that re-inserted its parent's turn."""
    import shutil

    from sqlalchemy import create_engine, text

    from simulator.store.migrate import DatabaseBehind, revisions, upgrade

    db = tmp_path / "old.sqlite3"
    shutil.copy(Path(__file__).parent / "fixtures" / "store_before_002.sqlite3", db)
    with pytest.raises(DatabaseBehind, match="db upgrade"):
        Store(f"sqlite:///{db}")  # the app does not alter a schema on its own
    engine = create_engine(f"sqlite:///{db}")
    assert upgrade(engine) == revisions()[1:], "stamped at main's 001, then upgraded"
    engine.dispose()
    store = Store(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        counts = {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar()
            for name in ("users", "sessions", "turns", "scores", "incident_reports")
        }
        copied = conn.execute(text("SELECT count(*) FROM scores WHERE copied")).scalar()
    assert counts == {"users": 1, "sessions": 2, "turns": 5, "scores": 25, "incident_reports": 1}
    assert copied == 5  # the branch's copy of turn 1, one row per criterion
    user = store.find_user("fx_trainee")
    assert user is not None and store.authenticate("fx_trainee", "pw-fixture-1") is not None
    # aggregates count each reply once: 4 replies were typed, 4 x 5 criteria rows
    assert len(store.score_rows(user_id=user.id)) == 20
    sessions = store.list_sessions(user_id=user.id)
    for row in sessions:
        assert len(store.load_session(row["id"]).turns) >= 2


def test_the_history_shows_the_reports_grade_after_the_drill_is_filed(db: str, engine: Engine) -> None:
    """One stored figure: filing the 報告 drill changes the grade, and the history, the report
    and the stored score all show the same one."""
    from datetime import timedelta, timezone

    svc = Services(Store(db), engine)
    u = svc.store.add_user("kato", "password123", display_name="加藤 一郎")
    s = svc.start(u, PERSONA, seed=4)
    svc.reply(u, s.id, "ご不満の点は承知しました。ただ、契約外の作業は会社の方針としてお受けできません。")
    svc.end(u, s.id)
    before = svc.report(u, s.id)
    assert svc.history(u)[0]["overall"] == before.overall
    assert before.criteria["record"].best == 1

    d = svc.load(u, s.id).created_at.astimezone(timezone(timedelta(hours=9)))
    persona = svc.personas()[PERSONA]
    svc.file_drill(
        u,
        s.id,
        {
            "when_where": f"{d.month}月{d.day}日 {d.hour}時、{persona.channel}",
            "requester": f"{persona.client.company} {persona.client.role} {persona.client.name}様",
            "employee": "加藤 一郎",
            "manager_instruction": "課長から、有償の見積もりを作成して送るよう指示を受けた",
            "demand": persona.demands[0].text,
            "result": "契約外としてお断りした",
            "other": "",
        },
    )
    after = svc.report(u, s.id)
    stored = svc.store.session_score(s.id)
    assert after.drill.score is not None and after.drill.score >= 2
    assert after.criteria["record"].best == after.drill.score
    assert after.overall > before.overall, "the filed drill counts as a record"
    assert stored is not None and stored["overall"] == after.overall == svc.history(u)[0]["overall"]
    assert stored["drill_score"] == after.drill.score and stored["grade"] == after.grade
    assert "総合評価" in after.score_rule, "the report says how the grade is computed"


def test_every_drill_submission_is_kept_and_the_first_counts(db: str, engine: Engine) -> None:
    """Resubmitting cannot erase a weak first report nor lift the grade: HR sees every attempt."""
    from simulator.app.services import DrillInputError

    svc = Services(Store(db), engine)
    u = svc.store.add_user("mori", "password123", display_name="森 一郎")
    s = svc.start(u, PERSONA, seed=4)
    svc.reply(u, s.id, "契約外の作業は会社の方針としてお受けできません。")
    svc.end(u, s.id)
    weak = svc.file_drill(
        u, s.id, {k: "x" for k in ("when_where", "requester", "employee", "demand", "result")}
    )
    graded = svc.report(u, s.id).overall
    persona = svc.personas()[PERSONA]
    d = svc.load(u, s.id).created_at.astimezone(timezone(timedelta(hours=9)))
    better = svc.file_drill(
        u,
        s.id,
        {
            "when_where": f"{d.month}月{d.day}日 {d.hour}時、{persona.channel}",
            "requester": f"{persona.client.company} {persona.client.name}様",
            "employee": "森 一郎",
            "manager_instruction": "未報告",
            "demand": persona.demands[0].text,
            "result": "契約外としてお断りし、練習を途中で終了した（未解決）",
        },
    )
    assert better.score > weak.score
    assert "2回目の提出" in better.summary and "初回" in better.summary
    rows = svc.store.incident_reports(s.id)
    assert [r["score"] for r in rows] == [weak.score, better.score], "both submissions are kept, in order"
    rep = svc.report(u, s.id)
    assert rep.drill.score == weak.score and rep.drill.attempts == 2
    assert rep.overall == graded, "a resubmission does not change the grade"

    with pytest.raises(DrillInputError, match="長すぎます"):
        svc.file_drill(u, s.id, {"demand": "あ" * 10_000_000})
    assert len(svc.store.incident_reports(s.id)) == 2, "a refused submission stores nothing"


def test_a_retry_branch_does_not_count_its_copied_turns_twice(db: str, engine: Engine) -> None:
    svc = Services(Store(db), engine)
    u = svc.store.add_user("endo", "password123")
    s = svc.start(u, PERSONA, seed=6)
    svc.reply(u, s.id, "承知しました。今回に限り無料で対応いたします。")
    svc.reply(u, s.id, "わかりました、なんとかします。")
    svc.reply(u, s.id, "上長に報告のうえ、改めてご連絡いたします。")
    branch, _ = svc.retry(u, s.id, 3, "契約外のご要望は会社の方針としてお受けできません。")
    assert len(branch.turns) == 3, "the branch keeps the two turns it was copied from"
    typed = 4  # three replies in the original, one new one in the branch
    rows = svc.store.score_rows(user_id=u.id)
    assert len(rows) == typed * len(CRITERIA)
    assert svc.report(u, branch.id).turn_count == 3, "the branch's own report still shows its three turns"
