"""Indexes on the columns histories and HR filters use: department, scenario, date, criterion.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_department_created", "sessions", ["department", "created_at"])
    op.create_index("ix_sessions_scenario_created", "sessions", ["scenario", "created_at"])
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])
    op.create_index("ix_sessions_parent_id", "sessions", ["parent_id"])
    op.create_index("ix_scores_criterion_created", "scores", ["criterion", "created_at"])


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
