"""The わたしの履歴 tab: the trainee's own sessions, a trend per criterion, first/best/latest."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any

import gradio as gr
import pandas as pd

from simulator.models import (
    CRITERION_LABELS,
    OUTCOME_LABELS,
    SCENARIO_LABELS,
    CriterionId,
    Outcome,
    ScenarioId,
)
from simulator.report import grade_for
from simulator.store import User
from simulator.ui import strings as S
from simulator.ui.common import current_user, local_time
from simulator.ui.services import Services


def history_rows(services: Services, user: User) -> list[list[Any]]:
    ps = services.personas()
    rows = []
    for r in services.history(user):
        p = ps.get(r["persona_id"])
        grade = grade_for(r["overall"])[0] if r["overall"] is not None else "—"
        rows.append(
            [
                local_time(r["created_at"]).strftime("%Y-%m-%d %H:%M"),
                SCENARIO_LABELS[ScenarioId(r["scenario"])],
                p.title if p else r["persona_id"],
                p.difficulty_label if p else r["difficulty"],
                r["state"].get("turn", 0),
                OUTCOME_LABELS[Outcome(r["outcome"])],
                f"{grade} ({r['overall']:.0f})" if r["overall"] is not None else "—",
            ]
        )
    return rows


def trend_frame(services: Services, user: User) -> pd.DataFrame:
    """Mean score per criterion per session, in session order (unscored replies left out)."""
    per: dict[tuple[str, str], list[int]] = defaultdict(list)
    started: dict[str, Any] = {}
    for row in services.store.score_rows(user, user_id=user.id):
        if row["user_id"] != user.id or row["score"] is None:
            continue
        per[(row["session_id"], row["criterion"])].append(row["score"])
        started.setdefault(row["session_id"], row["created_at"])
    data = [
        {
            "日時": local_time(started[sid]).replace(tzinfo=None),
            "基準": CRITERION_LABELS[CriterionId(c)],
            "平均点": round(mean(v), 2),
        }
        for (sid, c), v in per.items()
    ]
    if not data:
        return pd.DataFrame({"日時": pd.to_datetime([]), "基準": [], "平均点": []})
    return pd.DataFrame(data).sort_values(["日時", "基準"])


def best_rows(services: Services, user: User) -> list[list[Any]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in services.history(user):
        if r["overall"] is not None:
            by[r["scenario"]].append(r)
    out = []
    for scenario, rs in by.items():
        rs = sorted(rs, key=lambda r: r["created_at"])
        out.append(
            [
                SCENARIO_LABELS[ScenarioId(scenario)],
                len(rs),
                f"{rs[0]['overall']:.0f}",
                f"{max(r['overall'] for r in rs):.0f}",
                f"{rs[-1]['overall']:.0f}",
            ]
        )
    return out


def build(services: Services) -> dict[str, Any]:
    gr.Markdown(S.HISTORY_TITLE)
    refresh = gr.Button(S.HISTORY_REFRESH, size="sm", elem_id="history-refresh")
    table = gr.Dataframe(
        headers=S.HISTORY_COLUMNS,
        interactive=False,
        elem_id="history-table",
        wrap=True,
        column_widths=["14%", "17%", "33%", "7%", "6%", "14%", "9%"],
    )
    plot = gr.LinePlot(
        x="日時",
        y="平均点",
        color="基準",
        title=S.HISTORY_TREND,
        y_lim=[0, 3],
        x_axis_format="%m/%d %H:%M",
        elem_id="history-trend",
        height=300,
    )
    gr.Markdown(f"#### {S.HISTORY_BEST}")
    best = gr.Dataframe(headers=S.BEST_COLUMNS, interactive=False, elem_id="history-best")

    def load(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        rows = history_rows(services, user)
        return [
            pd.DataFrame(rows, columns=S.HISTORY_COLUMNS),
            trend_frame(services, user),
            pd.DataFrame(best_rows(services, user), columns=S.BEST_COLUMNS),
        ]

    refresh.click(load, None, [table, plot, best], api_name="history")
    return {"load": load, "outputs": [table, plot, best]}
