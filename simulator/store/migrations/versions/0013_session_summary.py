"""One narrow row per session for HR's dashboard, with covering indexes; filled from the
per-criterion summaries already stored.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CRITERIA = ("calm", "firm", "contract", "record", "escalation")
FILTERS = ("created_at", "persona_id", "scenario", "difficulty")
VERSION = ("rubric_id", "rubric_version", "judge", "branch")


def _week(dt: datetime) -> date:
    d = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)) + timedelta(hours=9)
    return (d - timedelta(days=d.weekday())).date()


def upgrade() -> None:
    summary = op.create_table(
        "session_summary",
        sa.Column("session_id", sa.String(32), sa.ForeignKey("sessions.id"), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("persona_id", sa.String(64), nullable=False),
        sa.Column("persona_version", sa.Integer, nullable=False),
        sa.Column("difficulty", sa.String(16), nullable=False),
        sa.Column("branch", sa.Boolean, nullable=False),
        sa.Column("rubric_id", sa.String(64), nullable=False),
        sa.Column("rubric_version", sa.Integer, nullable=False),
        sa.Column("judge", sa.String(128), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("overall", sa.Float, nullable=True),
        sa.Column("conceded", sa.Integer, nullable=False),
        sa.Column("reviewed", sa.Boolean, nullable=False),
        *[sa.Column(c, sa.Float, nullable=True) for c in CRITERIA],
    )
    op.create_index("ix_session_summary_department", "session_summary",
                    [*VERSION, "department", *FILTERS, "user_id", "conceded", "overall", *CRITERIA])  # fmt: skip
    op.create_index("ix_session_summary_user", "session_summary",
                    [*VERSION, "user_id", *FILTERS, "department", "conceded", "overall", *CRITERIA])  # fmt: skip
    op.create_index("ix_session_summary_week", "session_summary",
                    [*VERSION, "week", "department", *FILTERS, *CRITERIA])  # fmt: skip
    op.create_index("ix_session_summary_overall", "session_summary",
                    [*VERSION, "overall", "department", *FILTERS, "user_id"])  # fmt: skip
    # fill from the per-criterion rows (one session's rows share everything but the criterion)
    sc = sa.table(
        "session_criteria", *[sa.column(n) for n in (
            "session_id", "user_id", "department", "scenario", "persona_id", "persona_version", "difficulty",
            "branch", "rubric_id", "rubric_version", "judge", "rule_version", "created_at", "overall",
            "criterion", "percent", "violations", "reviewed")],
    )  # fmt: skip
    conn = op.get_bind()
    rows: dict[str, dict] = {}
    q = sa.select(sc).execution_options(yield_per=5000)
    for r in conn.execute(q).mappings():
        row = rows.get(r["session_id"])
        if row is None:
            created = r["created_at"]
            if isinstance(created, str):
                created = datetime.fromisoformat(created)
            row = rows[r["session_id"]] = {
                k: r[k] for k in ("session_id", "user_id", "department", "scenario", "persona_id",
                                  "persona_version", "difficulty", "rubric_id", "rubric_version", "judge",
                                  "rule_version", "overall")
            } | {"branch": bool(r["branch"]), "reviewed": bool(r["reviewed"]), "created_at": created,
                 "week": _week(created), "conceded": 0, **dict.fromkeys(CRITERIA)}  # fmt: skip
        if r["criterion"] in CRITERIA:
            row[r["criterion"]] = r["percent"]
        if r["criterion"] == "firm":
            row["conceded"] = int(r["violations"] or 0)
    batch = list(rows.values())
    for k in range(0, len(batch), 2000):
        conn.execute(summary.insert(), batch[k : k + 2000])


def downgrade() -> None:
    raise NotImplementedError("revisions are append-only; restore a backup instead")
