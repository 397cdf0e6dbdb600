"""The tables as the code reads and writes them.

Their history is in ``migrations/versions`` (Alembic, frozen and append-only): a test checks
that a database upgraded to the head revision has exactly these columns and indexes.

Every row that belongs to a person carries ``user_id`` and the ``user_role`` the person had
when the row was written; every score carries the rubric id and version, the judge and the
persona version, so an HR history never mixes incomparable scores silently.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
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
    # for matching exports to a gradebook (LMS)
    Column("email", String(256), nullable=True),
    Column("employee_id", String(64), nullable=True),
    # the departments a staff account may see (null: every department)
    Column("scope", JSON, nullable=True),
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
    # the score with trainers' overrides applied (the machine's stays in ``score``)
    Column("reviewed_score", JSON, nullable=True),
    Column("reviewed_overall", Float, nullable=True),
    Column("parent_id", String(32), ForeignKey("sessions.id"), nullable=True),
    Column("branch_turn", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Index("ix_sessions_department_created", "department", "created_at"),
    Index("ix_sessions_scenario_created", "scenario", "created_at"),
    Index("ix_sessions_created_at", "created_at"),
    Index("ix_sessions_parent_id", "parent_id"),
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
    Index("ix_scores_criterion_created", "criterion", "created_at"),
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

# sign-in shared by every app instance: the hash of each session token, never the token
auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

app_secrets = Table(
    "app_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# one row per session and criterion, written with the session's stored score: what histories,
# dashboards and exports read (never recomputed from the turns)
session_criteria = Table(
    "session_criteria",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("department", String(128), nullable=False),
    Column("scenario", String(40), nullable=False),
    Column("persona_id", String(64), nullable=False),
    Column("persona_version", Integer, nullable=False),
    Column("difficulty", String(16), nullable=False),
    Column("branch", Boolean, nullable=False),
    Column("criterion", String(16), nullable=False),
    Column("mean", Float, nullable=True),
    Column("best", Integer, nullable=True),
    Column("percent", Float, nullable=True),
    Column("violations", Integer, nullable=False),
    Column("scored", Integer, nullable=False),
    Column("not_applicable", Integer, nullable=False),
    Column("overall", Float, nullable=True),
    Column("rubric_id", String(64), nullable=False),
    Column("rubric_version", Integer, nullable=False),
    Column("judge", String(128), nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reviewed", Boolean, nullable=False, server_default=false()),  # a trainer's override counted
    Index("ix_session_criteria_session", "session_id", "criterion", unique=True),
    Index("ix_session_criteria_user_created", "user_id", "created_at"),
    Index("ix_session_criteria_filters", "department", "scenario", "criterion", "created_at"),
    Index("ix_session_criteria_criterion_created", "criterion", "created_at"),
)

# one row per session, written with its stored score beside ``session_criteria``: the narrow
# table HR's dashboard aggregates. Each index leads with the version (scores of different
# versions are never mixed) and covers every column a dashboard query reads, so the queries are
# index-only scans (under 200 ms at 100,000 sessions on SQLite: BENCHMARKS.md)
SUMMARY_FILTERS = ("created_at", "persona_id", "scenario", "difficulty")
SUMMARY_CRITERIA = ("calm", "firm", "contract", "record", "escalation")  # achievement (%) per criterion
_VERSION = ("rubric_id", "rubric_version", "judge", "branch")
session_summary = Table(
    "session_summary",
    metadata,
    Column("session_id", String(32), ForeignKey("sessions.id"), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("department", String(128), nullable=False),
    Column("scenario", String(40), nullable=False),
    Column("persona_id", String(64), nullable=False),
    Column("persona_version", Integer, nullable=False),
    Column("difficulty", String(16), nullable=False),
    Column("branch", Boolean, nullable=False),
    Column("rubric_id", String(64), nullable=False),
    Column("rubric_version", Integer, nullable=False),
    Column("judge", String(128), nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("week", Date, nullable=False),  # the Monday (JST) of the week it started in
    Column("overall", Float, nullable=True),
    Column("conceded", Integer, nullable=False),  # replies that gave in (毅然's violations)
    Column("reviewed", Boolean, nullable=False),
    *[Column(c, Float, nullable=True) for c in SUMMARY_CRITERIA],
    Index("ix_session_summary_department", *_VERSION, "department", *SUMMARY_FILTERS, "user_id", "conceded",
          "overall", *SUMMARY_CRITERIA),
    Index("ix_session_summary_user", *_VERSION, "user_id", *SUMMARY_FILTERS, "department", "conceded", "overall",
          *SUMMARY_CRITERIA),
    Index("ix_session_summary_week", *_VERSION, "week", "department", *SUMMARY_FILTERS, *SUMMARY_CRITERIA),
    Index("ix_session_summary_overall", *_VERSION, "overall", "department", *SUMMARY_FILTERS, "user_id"),
)  # fmt: skip

# append-only: who viewed whose session, overrides, exports, account changes
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(32), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject_user_id", String(32), nullable=True),
    Column("session_id", String(32), nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_subject", "subject_user_id", "at"),
    Index("ix_audit_log_actor", "actor_id", "at"),
)

# every version of every persona (immutable once written); the shipped files seed it
persona_versions = Table(
    "persona_versions",
    metadata,
    Column("persona_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("yaml", Text, nullable=False),
    Column("title", String(256), nullable=False),
    Column("scenario", String(40), nullable=False),
    Column("published", Boolean, nullable=False),
    Column("source", String(16), nullable=False),  # file / studio / import
    Column("note", String(500), nullable=False),
    Column("created_by", String(32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_persona_versions_published", "published", "persona_id"),
)

# a trainer's correction of one machine score (append-only: the latest per turn and criterion counts)
score_overrides = Table(
    "score_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), ForeignKey("sessions.id"), nullable=False),
    Column("turn_idx", Integer, nullable=False),
    Column("criterion", String(16), nullable=False),
    Column("machine_score", Integer, nullable=True),
    Column("score", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("reviewer_id", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_score_overrides_session", "session_id", "turn_idx"),
)

# a persona assigned to a department or to one trainee, with a due date
assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("persona_id", String(64), nullable=False),
    Column("department", String(128), nullable=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=True),
    Column("due", Date, nullable=False),
    Column("note", String(500), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_assignments_department", "department"),
    Index("ix_assignments_user", "user_id"),
)

# the scenarios' rubric weights as edited in the app; version 0 is the rubric file's own
rubric_weights = Table(
    "rubric_weights",
    metadata,
    Column("rubric_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("weights", JSON, nullable=False),
    Column("published", Boolean, nullable=False),
    Column("note", String(500), nullable=False),
    Column("created_by", String(32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
