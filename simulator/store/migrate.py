"""Schema revisions with Alembic: frozen, append-only files in ``migrations/versions``.

``python -m simulator db upgrade`` is the deploy step. A database made before Alembic (its
``schema_migrations`` table lists main's named migrations) is stamped at the revision it
had reached, then upgraded. The app itself only initialises an *empty* database (the quick
start's first run); a database that is behind stops the start with a message naming the
command, so that several app instances never race to alter one schema. Upgrades take a lock
(PostgreSQL: an advisory lock; SQLite: a lock file beside the database).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# main's named migrations before Alembic → the revision that froze them
LEGACY = {"001_initial": "0001", "002_session_score_and_copied_scores": "0002"}
_PG_LOCK_KEY = 7_270_101  # any constant shared by every instance


class DatabaseBehind(RuntimeError):
    """The database's schema is older than this code's."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current, self.head = current, head
        shown = current or "なし / none"
        super().__init__(
            f"データベースのスキーマが古いため起動できません（現在 {shown}、必要 {head}）。"
            "`python -m simulator db upgrade` を実行してから起動してください。 / "
            f"The database schema is behind (at {shown}, this version needs {head}): "
            "run `python -m simulator db upgrade`, then start the app."
        )


class DatabaseAhead(RuntimeError):
    def __init__(self, current: str, head: str) -> None:
        super().__init__(
            f"データベースがこの版より新しいスキーマです（{current}、この版は {head}）。新しい版のアプリを使ってください。 / "
            f"The database schema ({current}) is newer than this version's ({head}): run the newer app."
        )


def _config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    h = ScriptDirectory.from_config(_config()).get_current_head()
    assert h is not None
    return h


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@dataclass(frozen=True)
class Status:
    current: str | None  # the Alembic revision (or the legacy one it maps to)
    head: str
    empty: bool  # no tables at all: a first start
    legacy: bool  # made before Alembic: needs ``db upgrade`` to be stamped

    @property
    def behind(self) -> bool:
        return self.current != self.head

    @property
    def ahead(self) -> bool:
        return self.current is not None and self.current not in revisions()


def _legacy_revision(conn: Connection) -> str | None:
    names = {r[0] for r in conn.execute(text("SELECT name FROM schema_migrations"))}
    known = [LEGACY[n] for n in LEGACY if n in names]
    return max(known) if known else None


def status(engine: Engine) -> Status:
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        current = MigrationContext.configure(conn).get_current_revision()
        legacy = current is None and "schema_migrations" in tables
        if legacy:
            current = _legacy_revision(conn)
        empty = not (tables - {"alembic_version"})
    return Status(current=current, head=head(), empty=empty, legacy=legacy)


@contextlib.contextmanager
def _lock(engine: Engine, conn: Connection) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        yield
        return
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:":
        yield
        return
    with open(f"{db}.migrate.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> list[str]:
    """Bring the schema to the head revision; returns the revisions applied (oldest first)."""
    with engine.begin() as conn, _lock(engine, conn):
        ctx = MigrationContext.configure(conn)
        before = ctx.get_current_revision()
        tables = set(inspect(conn).get_table_names())
        if before is None and "schema_migrations" in tables:
            legacy = _legacy_revision(conn)
            if legacy is not None:
                command.stamp(_config(conn), legacy)
                before = legacy
        command.upgrade(_config(conn), "head")
        after = MigrationContext.configure(conn).get_current_revision()
    all_revs = revisions()
    start = all_revs.index(before) + 1 if before in all_revs else 0
    return all_revs[start : all_revs.index(after) + 1] if after in all_revs else []


def ensure_current(engine: Engine) -> list[str]:
    """At start: create an empty database's schema, refuse one that is behind or ahead."""
    st = status(engine)
    if st.empty:
        return upgrade(engine)
    if st.ahead:
        raise DatabaseAhead(str(st.current), st.head)
    if st.behind:
        raise DatabaseBehind(st.current, st.head)
    return []
