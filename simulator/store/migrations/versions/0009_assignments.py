"""Assignments: a trainer assigns a persona to a department or to named trainees, with a due date.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128), nullable=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assignments_department", "assignments", ["department"])
    op.create_index("ix_assignments_user", "assignments", ["user_id"])


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
