"""The initial tables, written out (frozen: never derived from the live metadata).

This is the schema main's ``001_initial`` created before ``002`` existed: users, sessions,
turns, per-turn scores and 報告 drill submissions.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("user_role", sa.String(16), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("persona_version", sa.Integer, nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("difficulty", sa.String(16), nullable=False),
        sa.Column("rubric_id", sa.String(64), nullable=False),
        sa.Column("rubric_version", sa.Integer, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("voice", sa.String(64), nullable=False),
        sa.Column("judge", sa.String(64), nullable=False),
        sa.Column("opening", sa.Text, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("overall", sa.Float, nullable=True),
        sa.Column("parent_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=True),
        sa.Column("branch_turn", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_role", sa.String(16), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("client_before", sa.Text, nullable=False),
        sa.Column("trainee", sa.Text, nullable=False),
        sa.Column("client_after", sa.Text, nullable=True),
        sa.Column("closing", sa.Text, nullable=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("voice", sa.String(64), nullable=False),
        sa.Column("notices", sa.JSON, nullable=False),
        sa.Column("review_flag", sa.Boolean, nullable=False),
        sa.Column("assessments", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_turns_session_idx", "turns", ["session_id", "idx"], unique=True)
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("turn_idx", sa.Integer, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_role", sa.String(16), nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("persona_version", sa.Integer, nullable=False),
        sa.Column("rubric_id", sa.String(64), nullable=False),
        sa.Column("rubric_version", sa.Integer, nullable=False),
        sa.Column("judge", sa.String(128), nullable=False),
        sa.Column("criterion", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("primary", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_scores_session_id", "scores", ["session_id"])
    op.create_index("ix_scores_user_id", "scores", ["user_id"])
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_role", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_incident_reports_session_id", "incident_reports", ["session_id"])


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
