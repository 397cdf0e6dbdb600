"""Department-scoped staff: an HR (or trainer) account limited to some departments.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("scope", sa.JSON, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
