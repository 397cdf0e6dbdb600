"""demo-data fills a store with sessions played through the real engine."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from simulator.demo import DEMO_PASSWORD, QUALITIES, ReplyWriter, run_demo_data
from simulator.models import CRITERIA, ScenarioId
from simulator.store import Store


def _run(
    url: str, monkeypatch: pytest.MonkeyPatch, trainees: int = 2, sessions: int = 2, seed: int = 7
) -> int:
    monkeypatch.setenv("KASUHARA_DATABASE_URL", url)
    return run_demo_data(argparse.Namespace(trainees=trainees, sessions=sessions, seed=seed))


def _summary(store: Store) -> list[tuple[str, str, str, float | None, list[str]]]:
    admin = store.find_user("admin")
    assert admin is not None
    out = []
    for row in sorted(store.list_sessions(), key=lambda r: r["id"]):
        s = store.load_session(row["id"])
        out.append(
            (row["username"], s.persona_id, s.outcome.value, row["overall"], [t.trainee for t in s.turns])
        )
    return out


def test_demo_data_creates_trainees_sessions_turns_and_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert _run(url, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "セッション / sessions: 4" in out and "seconds" in out and DEMO_PASSWORD in out

    store = Store(url)
    trainees = [u for u in store.list_users() if u.role == "trainee"]
    assert [u.username for u in trainees] == ["demo_trainee_01", "demo_trainee_02"]
    assert {u.department for u in trainees} <= {"営業部", "開発部", "サポート部"}
    assert store.authenticate("demo_trainee_01", DEMO_PASSWORD) is not None
    assert store.find_user("admin") is not None  # the app still gets its administrator

    admin = store.find_user("admin")
    assert admin is not None
    for u in trainees:
        rows = store.list_sessions(user_id=u.id)
        assert len(rows) == 2
        for row in rows:
            assert row["overall"] is not None
            s = store.load_session(row["id"])
            assert s.turns, row["id"]
            assert s.outcome.value == row["outcome"]
            for t in s.turns:
                a = t.assessment
                assert a is not None and a.judge.startswith("hybrid@")
                assert a.rubric_version >= 1 and a.rubric_id
        scores = store.score_rows(user_id=u.id)
        assert scores
        assert len(scores) == sum(len(store.load_session(r["id"]).turns) for r in rows) * len(CRITERIA)
        assert all(
            r["rubric_version"] >= 1 and r["judge"].startswith("hybrid@") and r["rubric_id"] for r in scores
        )


def test_demo_data_is_reproducible_and_does_not_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    b = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    _run(a, monkeypatch, seed=11)
    _run(b, monkeypatch, seed=11)
    first = _summary(Store(a))
    assert first == _summary(Store(b))
    _run(a, monkeypatch, seed=11)  # existing accounts are left alone
    assert _summary(Store(a)) == first


def test_some_sessions_file_a_drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    _run(url, monkeypatch, trainees=3, sessions=3, seed=5)
    store = Store(url)
    admin = store.find_user("admin")
    assert admin is not None
    drills = [store.incident_report(r["id"]) for r in store.list_sessions()]
    filed = [d for d in drills if d is not None]
    assert filed
    for d in filed:
        assert 1 <= d["score"] <= 3
        assert {c["key"] for c in d["checks"]} == set(d["fields"])


def test_reply_writer_covers_every_quality() -> None:
    import random

    seen = set()
    for skill in (0.0, 0.5, 1.0):
        w = ReplyWriter(ScenarioId.phone_harassment, skill, random.Random(1))
        for _ in range(60):
            q, text = w.next()
            assert text
            seen.add(q)
    assert seen == set(QUALITIES)


def test_the_scale_path_copies_played_sessions_under_each_trainee(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--fast`` (automatic above 500 sessions): template sessions played through the engine,
    copied under each trainee with their own id, name, department and dates; what HR opens on
    a copy (the report, the dashboard) reads like any session."""
    from datetime import UTC, datetime, timedelta

    from simulator.app.dashboard import Filters
    from simulator.app.services import Services
    from simulator.engine import Engine

    url = f"sqlite:///{tmp_path / 'scale.sqlite3'}"
    monkeypatch.setenv("KASUHARA_DATABASE_URL", url)
    args = argparse.Namespace(trainees=6, sessions=5, seed=3, departments=4, days=60, fast=True)
    assert run_demo_data(args) == 0
    out = capsys.readouterr().out
    assert "セッション / sessions: 30" in out and "雛形" in out
    store = Store(url)
    trainees = [u for u in store.list_users() if u.role == "trainee"]
    assert len(trainees) == 6 and len({u.department for u in trainees}) == 4
    assert all(u.email and u.employee_id for u in trainees), "matched to a gradebook"
    assert store.authenticate(trainees[0].username, DEMO_PASSWORD) is not None
    svc = Services(store, Engine(voice="scripted", judge="rules"))
    hr = store.find_user("demo_hr")
    assert hr is not None
    now = datetime.now(UTC)
    seen_ids = set()
    for u in trainees:
        rows = store.list_sessions(user_id=u.id)
        assert len(rows) == 5
        for row in rows:
            started = row["created_at"].replace(tzinfo=UTC)
            assert now - timedelta(days=62) <= started <= now
            s = store.load_session(row["id"])
            assert s.turns and all(t.created_at >= s.created_at for t in s.turns)
            seen_ids.add(s.id)
            rep = svc.report(hr, s.id)
            assert rep.trainee.name == u.display_name and rep.overall == row["overall"]
            drill = store.incident_report(s.id)
            if drill:
                assert drill["fields"]["employee"] == u.display_name
    assert len(seen_ids) == 30
    d = svc.dashboard(hr, Filters())
    assert d["headline"]["sessions"] == 30 and d["headline"]["active_trainees"] == 6
    assert {r["department"] for r in d["departments"]} == {u.department for u in trainees}
    assert sum(r["sessions"] for r in d["cohort"]) == 30
    assert run_demo_data(argparse.Namespace(trainees=6, sessions=5, seed=3, departments=21, fast=True)) == 2
    assert "--departments" in capsys.readouterr().out
