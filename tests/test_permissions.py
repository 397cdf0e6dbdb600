"""Capabilities per role, checked by the application layer for every call (SQLite and PostgreSQL)."""

from __future__ import annotations

import inspect
from datetime import date

import pytest

from simulator.app import permissions
from simulator.app.permissions import AccessDenied, Capability
from simulator.app.services import Services
from simulator.library import load_personas

PERSONA = sorted(load_personas())[0]
C = Capability


# ``svc`` (the application layer on SQLite, then PostgreSQL) comes from tests/conftest.py


def test_trainer_and_hr_get_different_capabilities(svc: Services) -> None:
    trainee = svc.store.add_user("t1", "password-t1")
    trainer = svc.store.add_user("tr1", "password-r1", role="trainer")
    hr = svc.store.add_user("hr1", "password-h1", role="hr")
    admin = svc.store.add_user("ad1", "password-a1", role="admin")
    caps = {u.role: svc.capabilities(u) for u in (trainee, trainer, hr, admin)}
    assert caps["trainee"] == {C.practice}
    assert C.edit_personas in caps["trainer"] and C.export not in caps["trainer"]
    assert {C.view_dashboards, C.export, C.read_audit_log} <= caps["hr"] and C.edit_personas not in caps["hr"]
    assert caps["trainer"] != caps["hr"]
    assert caps["admin"] == set(Capability) and C.manage_users not in caps["hr"] | caps["trainer"]
    svc.store.set_active("tr1", False)
    assert svc.capabilities(svc.store.get_user(trainer.id)) == frozenset(), (
        "a disabled account can do nothing"
    )


# the session operations of the application layer: each must refuse a stranger
_SESSION_CALLS = {
    "load": lambda svc, u, sid: svc.load(u, sid),
    "reply": lambda svc, u, sid: svc.reply(u, sid, "代わりに返答します"),
    "reply_stream": lambda svc, u, sid: next(svc.reply_stream(u, sid, "代わりに返答します")),
    "end": lambda svc, u, sid: svc.end(u, sid),
    "score": lambda svc, u, sid: svc.score(u, sid),
    "report": lambda svc, u, sid: svc.report(u, sid),
    "report_and_session": lambda svc, u, sid: svc.report_and_session(u, sid),
    "retry": lambda svc, u, sid: svc.retry(u, sid, 1, "やり直し"),
    "file_drill": lambda svc, u, sid: svc.file_drill(u, sid, {"result": "報告"}),
    "override_score": lambda svc, u, sid: svc.override_score(
        u, sid, 1, "calm", 2, "受け止めの一言があります"
    ),
}
_REVIEWS = {"override_score"}  # a trainer's (and the administrator's), not HR's
_READS = {"load", "score", "report", "report_and_session"}


def test_every_session_operation_is_listed_here() -> None:
    takes_session = {
        name
        for name, fn in inspect.getmembers(Services, inspect.isfunction)
        if not name.startswith("_") and "session_id" in inspect.signature(fn).parameters
    }
    assert takes_session == set(_SESSION_CALLS), "a new session operation needs its permission test"


@pytest.mark.parametrize("call", sorted(_SESSION_CALLS))
def test_a_trainee_can_touch_no_one_elses_session(svc: Services, call: str) -> None:
    owner = svc.store.add_user("owner", "password-o1", department="営業部")
    other = svc.store.add_user("other", "password-x1", department="営業部")
    s = svc.start(owner, PERSONA, seed=1)
    svc.reply(owner, s.id, "お話は伺います。")
    with pytest.raises(AccessDenied):
        _SESSION_CALLS[call](svc, other, s.id)
    assert len(svc.load(owner, s.id).turns) == 1, "nothing of the owner's was changed"


@pytest.mark.parametrize("role", ["trainer", "hr", "admin"])
def test_staff_read_but_never_practise_in_someone_elses_session(svc: Services, role: str) -> None:
    owner = svc.store.add_user("owner", "password-o1")
    staff = svc.store.add_user("staff", "password-s1", role=role)
    s = svc.start(owner, PERSONA, seed=1)
    svc.reply(owner, s.id, "お話は伺います。")
    for call in sorted(_SESSION_CALLS):
        if call in _READS or (call in _REVIEWS and role != "hr"):
            _SESSION_CALLS[call](svc, staff, s.id)
        else:
            with pytest.raises(AccessDenied):
                _SESSION_CALLS[call](svc, staff, s.id)
    assert [r["id"] for r in svc.sessions(staff, user_id=owner.id)] == [s.id]
    assert svc.history(staff) == [], "a staff user's own history holds only their own sessions"
    mine = svc.start(staff, PERSONA, seed=2)
    assert [r["id"] for r in svc.history(staff)] == [mine.id]


def test_a_listing_never_widens_for_a_trainee(svc: Services) -> None:
    a = svc.store.add_user("a", "password-a1", department="営業部")
    b = svc.store.add_user("b", "password-b1", department="営業部")
    sa = svc.start(a, PERSONA, seed=1)
    sb = svc.start(b, PERSONA, seed=2)
    assert [r["id"] for r in svc.sessions(b)] == [sb.id]
    assert [r["id"] for r in svc.sessions(b, user_id=a.id, department="営業部")] == [sb.id]
    assert sa.id not in [r["id"] for r in svc.sessions(b, department="営業部")]


def test_a_role_without_practice_cannot_start(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    u = svc.store.add_user("viewer", "password-v1", role="hr")
    monkeypatch.setitem(permissions.ROLE_CAPABILITIES, "hr", frozenset({C.view_dashboards}))
    with pytest.raises(AccessDenied):
        svc.start(u, PERSONA)
    with pytest.raises(AccessDenied):
        svc.history(u)


def test_every_staff_view_of_another_persons_session_is_in_the_audit_log(svc: Services) -> None:
    owner = svc.store.add_user("owner", "password-o1", display_name="佐藤 花子")
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer", display_name="研修 太郎")
    hr = svc.store.add_user("hr", "password-h1", role="hr", display_name="人事 次郎")
    s = svc.start(owner, PERSONA, seed=1)
    svc.reply(owner, s.id, "お話は伺います。")
    svc.report(owner, s.id)  # the owner's own view is not an audit event
    svc.load(trainer, s.id)
    svc.report(hr, s.id)
    log = svc.audit_log(hr)
    seen = [(e["actor_name"], e["subject_name"], e["session_id"], e["detail"]["what"]) for e in log]
    assert seen == [
        ("人事 次郎", "佐藤 花子", s.id, "report"),
        ("研修 太郎", "佐藤 花子", s.id, "transcript"),
    ]
    assert all(e["at"] is not None for e in log)
    # the trainee may see who viewed their sessions, and may not read the log itself
    assert [e["actor_name"] for e in svc.who_viewed_mine(owner)] == ["人事 次郎", "研修 太郎"]
    with pytest.raises(AccessDenied):
        svc.audit_log(owner)
    with pytest.raises(AccessDenied):
        svc.audit_log(trainer)
    # a refused view writes nothing and shows nothing
    other = svc.store.add_user("other", "password-x1")
    with pytest.raises(AccessDenied):
        svc.load(other, s.id)
    assert len(svc.audit_log(hr)) == 2


def test_a_department_scoped_hr_account_sees_only_its_departments(svc: Services) -> None:
    sales = svc.store.add_user("sales", "password-s1", department="営業部", display_name="営業 太郎")
    dev = svc.store.add_user("dev", "password-d1", department="開発部", display_name="開発 花子")
    hr = svc.store.add_user("hr_sales", "password-h1", role="hr", department="人事部")
    svc.store.set_scope("hr_sales", ["営業部"])
    hr = svc.store.get_user(hr.id)
    assert hr.scope == ("営業部",)
    s_sales = svc.start(sales, PERSONA, seed=1)
    s_dev = svc.start(dev, PERSONA, seed=2)
    for s in (s_sales, s_dev):
        svc.end(svc.store.get_user(s.user_id), s.id)
    assert svc.load(hr, s_sales.id).id == s_sales.id
    with pytest.raises(AccessDenied):
        svc.load(hr, s_dev.id)
    with pytest.raises(AccessDenied):
        svc.report(hr, s_dev.id)
    assert [r["id"] for r in svc.review_list(hr)] == [s_sales.id]
    assert "開発 花子" not in svc.export(hr, "csv") and "営業 太郎" in svc.export(hr, "csv")
    with pytest.raises(AccessDenied):
        svc.export(hr, "csv", department="開発部")
    with pytest.raises(AccessDenied):
        svc.export(hr, "xapi", departments=("営業部", "開発部"))
    # the audit log and the assignments it reads: its departments only
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer", display_name="研修 太郎")
    svc.report(trainer, s_sales.id)
    svc.report(trainer, s_dev.id)
    assert {e["subject_name"] for e in svc.audit_log(hr) if e["action"] == "view_session"} == {"営業 太郎"}
    assert [e["action"] for e in svc.audit_log(hr, actor_id=hr.id)][0] == "export", "its own actions stay"
    svc.assign(trainer, PERSONA, date(2099, 1, 1), department="営業部")
    svc.assign(trainer, PERSONA, date(2099, 1, 1), department="開発部")
    assert [a["department"] for a in svc.assignment_status(hr)] == ["営業部"]
    svc.store.set_scope("hr_sales", [])
    assert svc.load(svc.store.get_user(hr.id), s_dev.id).id == s_dev.id, "an empty scope is every department"
    assert {e["subject_name"] for e in svc.audit_log(svc.store.get_user(hr.id)) if e["subject_name"]} >= {
        "営業 太郎",
        "開発 花子",
    }


def test_the_audit_log_filters_by_who_whose_what_and_when(svc: Services) -> None:
    from datetime import UTC, datetime, timedelta

    a = svc.store.add_user("a", "password-a1", department="営業部", display_name="営業 太郎")
    b = svc.store.add_user("b", "password-b1", department="開発部", display_name="開発 花子")
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer", display_name="研修 太郎")
    hr = svc.store.add_user("hr", "password-h1", role="hr", display_name="人事 次郎")
    sa, sb = svc.start(a, PERSONA, seed=1), svc.start(b, PERSONA, seed=2)
    svc.load(trainer, sa.id)
    svc.report(hr, sb.id)
    svc.export(hr, "csv")
    assert [e["subject_name"] for e in svc.audit_log(hr, subject_user_id=b.id)] == ["開発 花子"]
    assert [e["actor_name"] for e in svc.audit_log(hr, actor_id=trainer.id)] == ["研修 太郎"]
    assert [e["action"] for e in svc.audit_log(hr, action="export")] == ["export"]
    now = datetime.now(UTC)
    assert len(svc.audit_log(hr, since=now - timedelta(minutes=5))) == 3
    assert svc.audit_log(hr, until=now - timedelta(days=1)) == []
