"""Tables and the named, append-only migrations that create and change them.

Every row that belongs to a person carries ``user_id`` and the ``user_role`` the person had
when the row was written; every score carries the rubric id and version, the judge and the
persona version, so an HR history never mixes incomparable scores silently.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False, default=""),
    Column("role", String(16), nullable=False),
    Column("department", String(128), nullable=False, default=""),
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("user_role", String(16), nullable=False),
    Column("department", String(128), nullable=False, default=""),
    Column("persona_id", String(64), nullable=False),
    Column("persona_version", Integer, nullable=False),
    Column("scenario", String(40), nullable=False),
    Column("difficulty", String(16), nullable=False, default=""),
    Column("rubric_id", String(64), nullable=False),
    Column("rubric_version", Integer, nullable=False),
    Column("seed", Integer, nullable=False, default=0),
    Column("voice", String(64), nullable=False),
    Column("judge", String(64), nullable=False),
    Column("opening", Text, nullable=False),
    Column("state", JSON, nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("overall", Float, nullable=True),
    Column("score", JSON, nullable=True),
    Column("parent_id", String(32), ForeignKey("sessions.id"), nullable=True),
    Column("branch_turn", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("user_role", String(16), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("client_before", Text, nullable=False),
    Column("trainee", Text, nullable=False),
    Column("client_after", Text, nullable=True),
    Column("closing", Text, nullable=True),
    Column("state", JSON, nullable=False),
    Column("voice", String(64), nullable=False),
    Column("notices", JSON, nullable=False),
    Column("review_flag", Boolean, nullable=False, default=False),
    Column("assessments", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_turns_session_idx", "session_id", "idx", unique=True),
)

scores = Table(
    "scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=False, index=True),
    Column("turn_idx", Integer, nullable=False),
    Column("user_id", String(32), nullable=False, index=True),
    Column("user_role", String(16), nullable=False),
    Column("scenario", String(40), nullable=False),
    Column("persona_id", String(64), nullable=False),
    Column("persona_version", Integer, nullable=False),
    Column("rubric_id", String(64), nullable=False),
    Column("rubric_version", Integer, nullable=False),
    Column("judge", String(128), nullable=False),
    Column("criterion", String(16), nullable=False),
    Column("score", Integer, nullable=True),
    Column("primary", Boolean, nullable=False, default=True),
    # a retry branch's copy of its parent's turns: counted in the branch's own grade, never
    # twice in aggregates over score rows
    Column("copied", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

incident_reports = Table(
    "incident_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=False, index=True),
    Column("user_id", String(32), nullable=False),
    Column("user_role", String(16), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("checks", JSON, nullable=False),
    Column("score", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def _m001_initial(conn: Connection) -> None:
    metadata.create_all(
        conn,
        tables=[users, sessions, turns, scores, incident_reports],
    )


def _columns(conn: Connection, table: str) -> set[str]:
    from sqlalchemy import inspect

    return {c["name"] for c in inspect(conn).get_columns(table)}


def _m002_session_score_and_copied_scores(conn: Connection) -> None:
    # 001 builds from the live metadata, so a fresh database already has these columns
    if "score" not in _columns(conn, "sessions"):
        conn.execute(text("ALTER TABLE sessions ADD COLUMN score JSON"))
    if "copied" not in _columns(conn, "scores"):
        conn.execute(text("ALTER TABLE scores ADD COLUMN copied BOOLEAN NOT NULL DEFAULT FALSE"))
        # branches made before this migration re-inserted their parent's turns: mark those copies
        conn.execute(
            text(
                "UPDATE scores SET copied = TRUE WHERE EXISTS (SELECT 1 FROM sessions s "
                "WHERE s.id = scores.session_id AND s.branch_turn IS NOT NULL AND scores.turn_idx < s.branch_turn)"
            )
        )


# Append only: never edit or reorder an applied migration; add a new one.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("001_initial", _m001_initial),
    ("002_session_score_and_copied_scores", _m002_session_score_and_copied_scores),
]


def migrate(conn: Connection) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied."""
    from datetime import UTC, datetime

    schema_migrations.create(conn, checkfirst=True)
    done = {r[0] for r in conn.execute(text("SELECT name FROM schema_migrations"))}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        fn(conn)
        conn.execute(schema_migrations.insert().values(name=name, applied_at=datetime.now(UTC)))
        applied.append(name)
    return applied
