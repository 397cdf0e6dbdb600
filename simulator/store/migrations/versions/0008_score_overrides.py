"""Trainers' score overrides, stored beside the machine scores (never replacing them), and the
session's reviewed score.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("turn_idx", sa.Integer, nullable=False),
        sa.Column("criterion", sa.String(16), nullable=False),
        sa.Column("machine_score", sa.Integer, nullable=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("reviewer_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_score_overrides_session", "score_overrides", ["session_id", "turn_idx"])
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("reviewed_score", sa.JSON, nullable=True))
        batch.add_column(sa.Column("reviewed_overall", sa.Float, nullable=True))
    with op.batch_alter_table("session_criteria") as batch:
        batch.add_column(sa.Column("reviewed", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
