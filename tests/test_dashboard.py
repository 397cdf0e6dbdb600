"""HR's dashboard figures: filters combine, versions are never averaged together, a scoped
account sees its departments only (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from simulator.app.dashboard import Filters
from simulator.app.permissions import AccessDenied
from simulator.app.services import Services
from simulator.library import load_personas

PERSONA = sorted(load_personas())[0]
GOOD = "お話は伺います。ただ、契約の範囲外のためお受けできません。本日の内容は記録し、上長に報告いたします。"
CONCEDE = "承知しました。今回に限り無償で対応いたします。"


def _play(svc: Services, user: object, reply: str, seed: int) -> str:
    s = svc.start(user, PERSONA, seed=seed)  # type: ignore[arg-type]
    svc.reply(user, s.id, reply)  # type: ignore[arg-type]
    svc.end(user, s.id)  # type: ignore[arg-type]
    return s.id


def test_headline_heat_map_and_cohort(svc: Services) -> None:
    hr = svc.store.add_user("hr", "password-h1", role="hr")
    a = svc.store.add_user("a", "password-a1", department="営業部", display_name="営業 一")
    b = svc.store.add_user("b", "password-b1", department="開発部", display_name="開発 二")
    _play(svc, a, CONCEDE, 1)
    _play(svc, a, GOOD, 2)
    _play(svc, b, GOOD, 3)
    d = svc.dashboard(hr)
    assert d["version"] and len(d["versions"]) == 1
    h = d["headline"]
    assert (h["active_trainees"], h["sessions"]) == (2, 3)
    assert h["concession_share"] == round(1 / 3, 3), "one of three sessions gave in"
    assert (
        set(d["heat"]) == {"営業部", "開発部"} and d["heat"]["営業部"]["firm"] < d["heat"]["開発部"]["firm"]
    )
    cohort = {r["name"]: r for r in d["cohort"]}
    assert cohort["営業 一"]["sessions"] == 2 and cohort["開発 二"]["sessions"] == 1
    assert cohort["営業 一"]["first"] < cohort["営業 一"]["latest"] == cohort["営業 一"]["best"], "improved"
    assert cohort["営業 一"]["conceded"] == 1 and cohort["開発 二"]["conceded"] == 0
    assert [x["department"] for x in d["departments"]][0] == "営業部", "most concessions first"
    assert d["departments"][0]["conceded"] == 1 and d["departments"][0]["share"] == 0.5
    # no criterion chosen: one line per criterion; a criterion chosen: one per department
    assert d["trend"] and {x["criterion"] for x in d["trend"]} >= {"firm", "calm"}
    firm = svc.dashboard(hr, Filters(criterion="firm"))
    assert {x["department"] for x in firm["trend"]} == {"営業部", "開発部"}
    assert {x["criterion"] for x in firm["trend"]} == {"firm"}
    sales = svc.dashboard(hr, Filters(departments=("営業部",), criterion="firm"))
    assert sales["headline"]["sessions"] == 2 and set(sales["heat"]) == {"営業部"}
    assert set(sales["heat"]["営業部"]) == {"firm"} and {x["criterion"] for x in sales["trend"]} == {"firm"}
    # the personas filter (e.g. those in which the trainee is in sales) and a date range
    assert svc.dashboard(hr, Filters(personas=("no-such-persona",)))["headline"]["sessions"] == 0
    assert svc.dashboard(hr, Filters(personas=(PERSONA,)))["headline"]["sessions"] == 3


def test_different_rubric_versions_are_never_averaged_together(svc: Services) -> None:
    from sqlalchemy import update

    from simulator.store import schema as t

    hr = svc.store.add_user("hr", "password-h1", role="hr")
    a = svc.store.add_user("a", "password-a1", department="営業部")
    old = _play(svc, a, CONCEDE, 1)
    _play(svc, a, GOOD, 2)
    with svc.store.engine.begin() as conn:  # as if the first had been scored under an older rubric
        for table in (t.session_criteria, t.session_summary):
            conn.execute(update(table).where(table.c.session_id == old).values(rubric_version=1))
    d = svc.dashboard(hr)
    assert len(d["versions"]) == 2 and d["headline"]["sessions"] == 1, "the newest version only"
    other = next(v for v in d["versions"] if v != d["version"])
    assert svc.dashboard(hr, Filters(version=other))["headline"]["sessions"] == 1


def test_only_hr_sees_the_dashboard_and_a_scoped_account_its_departments(svc: Services) -> None:
    a = svc.store.add_user("a", "password-a1", department="営業部")
    b = svc.store.add_user("b", "password-b1", department="開発部")
    _play(svc, a, GOOD, 1)
    _play(svc, b, GOOD, 2)
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    with pytest.raises(AccessDenied):
        svc.dashboard(a)
    with pytest.raises(AccessDenied):
        svc.dashboard(trainer)
    hr = svc.store.add_user("hr", "password-h1", role="hr")
    svc.store.set_scope("hr", ["開発部"])
    d = svc.dashboard(svc.store.get_user(hr.id))
    assert set(d["heat"]) == {"開発部"} and d["headline"]["sessions"] == 1
