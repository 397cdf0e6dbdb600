"""A per-session, per-criterion summary of each stored session score, for histories and HR.

Written with the session's score (the one score function, ``scoring.session.score_session``);
sessions scored before this revision are filled from their stored score.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_criteria",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("persona_version", sa.Integer, nullable=False),
        sa.Column("difficulty", sa.String(16), nullable=False),
        sa.Column("branch", sa.Boolean, nullable=False),
        sa.Column("criterion", sa.String(16), nullable=False),
        sa.Column("mean", sa.Float, nullable=True),
        sa.Column("best", sa.Integer, nullable=True),
        sa.Column("percent", sa.Float, nullable=True),
        sa.Column("violations", sa.Integer, nullable=False),
        sa.Column("scored", sa.Integer, nullable=False),
        sa.Column("not_applicable", sa.Integer, nullable=False),
        sa.Column("overall", sa.Float, nullable=True),
        sa.Column("rubric_id", sa.String(64), nullable=False),
        sa.Column("rubric_version", sa.Integer, nullable=False),
        sa.Column("judge", sa.String(128), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_session_criteria_session", "session_criteria", ["session_id", "criterion"], unique=True
    )
    op.create_index("ix_session_criteria_user_created", "session_criteria", ["user_id", "created_at"])
    op.create_index(
        "ix_session_criteria_filters",
        "session_criteria",
        ["department", "scenario", "criterion", "created_at"],
    )
    op.create_index("ix_session_criteria_criterion_created", "session_criteria", ["criterion", "created_at"])

    # fill from the scores already stored
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, user_id, department, scenario, persona_id, persona_version, difficulty, parent_id, "
            "score, created_at FROM sessions WHERE score IS NOT NULL"
        )
    ).all()
    table = sa.table(
        "session_criteria",
        *(sa.column(c) for c in ("session_id", "user_id", "department", "scenario", "persona_id", "persona_version",
                                 "difficulty", "branch", "criterion", "mean", "best", "percent", "violations",
                                 "scored", "not_applicable", "overall", "rubric_id", "rubric_version", "judge",
                                 "rule_version", "created_at")),
    )  # fmt: skip
    out = []
    for r in rows:
        score = r.score if isinstance(r.score, dict) else json.loads(r.score)
        judges = score.get("judges") or [""]
        for cid, c in (score.get("criteria") or {}).items():
            out.append(
                {
                    "session_id": r.id,
                    "user_id": r.user_id,
                    "department": r.department,
                    "scenario": r.scenario,
                    "persona_id": r.persona_id,
                    "persona_version": r.persona_version,
                    "difficulty": r.difficulty,
                    "branch": r.parent_id is not None,
                    "criterion": cid,
                    "mean": c.get("mean"),
                    "best": c.get("best"),
                    "percent": c.get("percent"),
                    "violations": int(c.get("violations") or 0),
                    "scored": int(c.get("scored") or 0),
                    "not_applicable": int(c.get("not_applicable") or 0),
                    "overall": score.get("overall"),
                    "rubric_id": score.get("rubric_id") or "",
                    "rubric_version": int(score.get("rubric_version") or 0),
                    "judge": judges[0],
                    "rule_version": int(score.get("rule_version") or 0),
                    "created_at": r.created_at,
                }
            )
    if out:
        op.bulk_insert(table, out)


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
