"""Assignments: a trainer assigns a persona to a department or to named trainees with a due
date; trainees see them first, with the due date; completion is tracked (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from simulator.app.permissions import AccessDenied
from simulator.app.services import AssignInputError, Services
from simulator.library import load_personas

PERSONA = sorted(load_personas())[0]
OTHER = sorted(load_personas())[1]


# ``svc`` (the application layer on SQLite, then PostgreSQL) comes from tests/conftest.py


def test_a_department_assignment_is_seen_and_completed(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    a = svc.store.add_user("a", "password-a1", department="営業部")
    b = svc.store.add_user("b", "password-b1", department="営業部")
    c = svc.store.add_user("c", "password-c1", department="開発部")
    due = date.today() + timedelta(days=7)
    svc.assign(trainer, PERSONA, due, department="営業部", note="今月の必須")
    svc.assign(trainer, OTHER, due + timedelta(days=7), usernames=["c"])
    [mine] = svc.my_assignments(a)
    assert (mine["persona_id"], mine["due"], mine["status"]) == (PERSONA, due, "open")
    assert [x["persona_id"] for x in svc.my_assignments(c)] == [OTHER], "another department's is not theirs"
    s = svc.start(a, PERSONA, seed=1)
    svc.reply(a, s.id, "お話は伺います。")
    assert svc.my_assignments(a)[0]["status"] == "open", "a practice counts when it has ended"
    svc.end(a, s.id)
    assert svc.my_assignments(a)[0]["status"] == "done"
    status = {x["persona_id"]: x for x in svc.assignment_status(trainer)}
    assert (status[PERSONA]["completed"], status[PERSONA]["total"]) == (1, 2)
    assert (status[OTHER]["completed"], status[OTHER]["total"]) == (0, 1)
    assert svc.my_assignments(b)[0]["status"] == "open"
    hr = svc.store.add_user("hr", "password-h1", role="hr")
    assert len(svc.assignment_status(hr)) == 2, "HR sees completion"
    with pytest.raises(AccessDenied):
        svc.assignment_status(a)
    with pytest.raises(AccessDenied):
        svc.assign(a, PERSONA, due, department="営業部")


def test_assignments_that_cannot_be_kept_are_refused_in_japanese(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    svc.store.add_user("a", "password-a1", department="営業部")
    due = date.today() + timedelta(days=3)
    with pytest.raises(AssignInputError, match="過去"):
        svc.assign(trainer, PERSONA, date.today() - timedelta(days=1), department="営業部")
    with pytest.raises(AssignInputError, match="公開されていません"):
        svc.assign(trainer, "no_such_persona", due, department="営業部")
    with pytest.raises(AssignInputError, match="受講者「ghost」"):
        svc.assign(trainer, PERSONA, due, usernames=["ghost"])
    with pytest.raises(AssignInputError, match="部署「総務部」"):
        svc.assign(trainer, PERSONA, due, department="総務部")
    with pytest.raises(AssignInputError, match="部署か受講者"):
        svc.assign(trainer, PERSONA, due)
    assert svc.store.all_assignments() == []


def test_an_overdue_assignment_comes_first(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    a = svc.store.add_user("a", "password-a1", department="営業部")
    svc.assign(trainer, PERSONA, date.today() + timedelta(days=10), usernames=["a"])
    svc.store.add_assignment(
        OTHER, date.today() - timedelta(days=1), department=None, user_id=a.id, note="", by=trainer
    )
    assert [x["status"] for x in svc.my_assignments(a)] == ["overdue", "open"]
