"""Alembic revisions: a fresh database, one made by today's main, and the live tables agree."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from simulator.store import Store
from simulator.store.migrate import DatabaseBehind, head, revisions, status, upgrade
from simulator.store.schema import metadata

FIXTURES = Path(__file__).parent / "fixtures"
TODAYS_MAIN = FIXTURES / "store_main_2026-12-01.sqlite3"  # demo-data written by main before Alembic
TABLES = ("users", "sessions", "turns", "scores", "incident_reports")


def _counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def test_a_fresh_database_is_created_at_the_head_revision_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    revs = revisions()
    assert revs[:3] == ["0001", "0002", "0003"] and revs == sorted(revs), "append-only, in order"
    assert Store(url).applied == revs
    assert Store(url).applied == [], "a second start changes nothing"
    engine = create_engine(url)
    assert status(engine).current == head() and not status(engine).behind
    engine.dispose()


def test_the_upgraded_schema_is_exactly_the_tables_the_code_uses(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == [], "a change to schema.py needs a new revision in migrations/versions"


def test_a_database_made_by_todays_main_upgrades_without_losing_a_row(tmp_path: Path) -> None:
    db = tmp_path / "main.sqlite3"
    shutil.copy(TODAYS_MAIN, db)
    before = _counts(db)
    assert before["sessions"] > 0 and before["turns"] > 0 and before["incident_reports"] > 0
    with pytest.raises(DatabaseBehind) as err:
        Store(f"sqlite:///{db}")
    assert "python -m simulator db upgrade" in str(err.value) and "スキーマが古い" in str(err.value)
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "db", "upgrade", "--url", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert head() in out.stdout
    assert _counts(db) == before
    # the per-criterion summary is filled from the scores already stored
    con = sqlite3.connect(db)
    scored = con.execute("SELECT count(*) FROM sessions WHERE score IS NOT NULL").fetchone()[0]
    summaries = con.execute("SELECT count(*) FROM session_criteria").fetchone()[0]
    # and the dashboard's one row per session from those (0013), with the same figures
    narrow = con.execute("SELECT session_id, overall, firm, conceded, week FROM session_summary").fetchall()
    firm = dict(
        con.execute("SELECT session_id, percent FROM session_criteria WHERE criterion = 'firm'").fetchall()
    )
    con.close()
    assert scored > 0 and summaries == scored * 5
    assert len(narrow) == scored and all(r[2] == firm[r[0]] for r in narrow)
    assert all(date.fromisoformat(r[4]).weekday() == 0 for r in narrow), "weeks start on Monday"
    store = Store(f"sqlite:///{db}")
    trainee = next(u for u in store.list_users() if u.role == "trainee")
    rows = store.list_sessions(user_id=trainee.id)
    assert rows, "the trainee still has their sessions"
    for row in rows:
        s = store.load_session(row["id"])
        assert len(s.turns) >= 1 and s.turns[0].assessment is not None
    # the demo password still signs in: users survived with their hashes
    assert store.authenticate(trainee.username, "kasuhara-demo") is not None
    again = subprocess.run(
        [sys.executable, "-m", "simulator", "db", "upgrade", "--url", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "最新" in again.stdout


def test_revisions_are_frozen_files_not_derived_from_the_live_tables() -> None:
    versions = Path(__file__).parent.parent / "simulator" / "store" / "migrations" / "versions"
    for f in versions.glob("*.py"):
        text = f.read_text(encoding="utf-8")
        code = text.split('"""', 2)[-1]  # past the docstring
        assert "schema" not in code and "metadata" not in code and "create_all" not in code, f.name
