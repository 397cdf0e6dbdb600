"""The stored session score, and retry copies marked in the per-turn scores.

Main's ``002_session_score_and_copied_scores``, frozen.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("score", sa.JSON, nullable=True))
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("copied", sa.Boolean, nullable=False, server_default=sa.false()))
    # branches made before this revision re-inserted their parent's turns: mark those copies
    op.execute(
        "UPDATE scores SET copied = TRUE WHERE EXISTS (SELECT 1 FROM sessions s "
        "WHERE s.id = scores.session_id AND s.branch_turn IS NOT NULL AND scores.turn_idx < s.branch_turn)"
    )


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
