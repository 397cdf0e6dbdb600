"""Personas in the database: every version kept (immutable), published or not.

The shipped files seed it; personas written in the studio or imported are new versions. Every
app instance reads the same catalogue.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persona_versions",
        sa.Column("persona_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("yaml", sa.Text, nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_persona_versions_published", "persona_versions", ["published", "persona_id"])


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
