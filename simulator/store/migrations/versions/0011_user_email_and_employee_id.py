"""E-mail and employee id on accounts, so that exports can be matched to a gradebook.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(256), nullable=True))
        batch.add_column(sa.Column("employee_id", sa.String(64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
