"""The わたしの履歴 tab: the trainee's own sessions, a trend per criterion, first/best/latest."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import gradio as gr
import pandas as pd

from simulator.app.services import Services
from simulator.models import (
    CRITERION_LABELS,
    SCENARIO_LABELS,
    CriterionId,
    Outcome,
    ScenarioId,
    outcome_label,
)
from simulator.report import grade_for
from simulator.store import User
from simulator.ui import strings as S
from simulator.ui.common import current_user, local_time


def _ordered(services: Services, user: User) -> list[dict[str, Any]]:
    """The user's sessions, newest first, each followed by its retry branches (oldest first):
    a retry is a branch of its session, not another attempt."""
    rows = services.history(user)
    ids = {r["id"] for r in rows}
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("parent_id") in ids:
            children[r["parent_id"]].append(r)
    out: list[dict[str, Any]] = []

    def add(r: dict[str, Any], depth: int) -> None:
        out.append({**r, "_depth": depth})
        for c in sorted(children.get(r["id"], []), key=lambda c: c["created_at"]):
            add(c, depth + 1)

    for r in rows:
        if r.get("parent_id") not in ids:
            add(r, 0)
    return out


def attempts(services: Services, user: User) -> list[dict[str, Any]]:
    """Top-level attempts only, oldest first (what first/best/latest and the trend count)."""
    return sorted((r for r in _ordered(services, user) if r["_depth"] == 0), key=lambda r: r["created_at"])


def history_rows(services: Services, user: User) -> list[list[Any]]:
    ps = services.personas()
    rows = []
    for r in _ordered(services, user):
        p = ps.get(r["persona_id"])
        overall = effective_overall(r)
        grade = grade_for(overall)[0] if overall is not None else "—"
        title = p.title if p else r["persona_id"]
        if r["_depth"]:
            title = f"{S.HISTORY_BRANCH.format(turn=r.get('branch_turn') or '?')} {title}"
        rows.append(
            [
                local_time(r["created_at"]).strftime("%Y-%m-%d %H:%M"),
                SCENARIO_LABELS[ScenarioId(r["scenario"])],
                title,
                p.difficulty_label if p else r["difficulty"],
                r["state"].get("turn", 0),
                outcome_label(Outcome(r["outcome"]), p.channel if p else None),
                (
                    f"{grade} ({overall:.0f})"
                    + (S.HISTORY_REVIEWED if r.get("reviewed_overall") is not None else "")
                )
                if overall is not None
                else "—",
            ]
        )
    return rows


def latest_scenario(services: Services, user: User) -> str:
    tops = attempts(services, user)
    return tops[-1]["scenario"] if tops else ""


def trend_frame(services: Services, user: User, scenario: str | None = None) -> pd.DataFrame:
    """Mean score per criterion per attempt (1, 2, 3... of the user's top-level sessions), for
    one scenario (the latest practised unless given; "" for all). Unscored replies left out."""
    scenario = latest_scenario(services, user) if scenario is None else scenario
    tops = [r for r in attempts(services, user) if not scenario or r["scenario"] == scenario]
    number = {r["id"]: i for i, r in enumerate(tops, start=1)}
    # the stored score's mean per criterion: the figure the session's report shows
    data = [
        {"n": number[row["session_id"]], "回": attempt_label(number[row["session_id"]]),
         "基準": CRITERION_LABELS[CriterionId(row["criterion"])], "平均点": round(row["mean"], 2)}
        for row in services.own_criterion_rows(user, scenario)
        if row["session_id"] in number and row["mean"] is not None
    ]  # fmt: skip
    if not data:
        # typed even when empty: an empty float column would make the legend a number scale
        # (the chart's 「-Infinity」)
        return pd.DataFrame(
            {
                "n": pd.Series([], dtype="int64"),
                "回": pd.Series([], dtype="object"),
                "基準": pd.Series([], dtype="object"),
                "平均点": pd.Series([], dtype="float64"),
            }
        )
    return pd.DataFrame(data).sort_values(["n", "基準"])


def attempt_label(n: int) -> str:
    return f"{n}回目"


def trend_plot(frame: pd.DataFrame) -> pd.DataFrame:
    """The trend's data. Only the value changes between updates: Gradio applies a changed
    plot property (title, sort, caption) one update late, so those stay fixed and the
    scenario's name and notes are shown beside the plot (:func:`trend_note`)."""
    return frame[["回", "基準", "平均点"]]


def trend_note(frame: pd.DataFrame, scenario: str) -> str:
    count = int(frame["n"].max()) if len(frame) else 0
    note = f"**{trend_title(scenario)}**"
    return note + (f"　{S.HISTORY_TREND_FEW}" if count < 2 else "")


def trend_title(scenario: str) -> str:
    label = SCENARIO_LABELS[ScenarioId(scenario)] if scenario else S.HISTORY_ALL
    return S.HISTORY_TREND.format(scenario=label)


def best_rows(services: Services, user: User) -> list[list[Any]]:
    """First, best and latest per scenario, over top-level attempts (a retry is not one)."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in attempts(services, user):
        if effective_overall(r) is not None:
            by[r["scenario"]].append(r)
    out = []
    for scenario, rs in by.items():
        out.append(
            [
                SCENARIO_LABELS[ScenarioId(scenario)],
                len(rs),
                f"{effective_overall(rs[0]):.0f}",
                f"{max(effective_overall(r) or 0 for r in rs):.0f}",
                f"{effective_overall(rs[-1]):.0f}",
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
    scenario_pick = gr.Dropdown(
        label=S.HISTORY_SCENARIO,
        choices=[(S.HISTORY_ALL, "")] + [(SCENARIO_LABELS[sc], sc.value) for sc in ScenarioId],
        value=None,
        elem_id="history-scenario",
    )
    trend_head = gr.Markdown(elem_id="history-trend-note")
    plot = gr.LinePlot(
        x="回",
        y="平均点",
        color="基準",
        # one tick per attempt, in order (a category axis: ticks never repeat, 10 after 9)
        sort=[attempt_label(n) for n in range(1, 501)],
        x_title="練習の回（やり直しを除く）",
        y_title="平均点（0〜3）",
        y_lim=[0, 3],
        elem_id="history-trend",
        height=300,
    )
    gr.Markdown(f"#### {S.HISTORY_BEST}")
    best = gr.Dataframe(headers=S.BEST_COLUMNS, interactive=False, elem_id="history-best")

    def load(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        rows = history_rows(services, user)
        scenario = latest_scenario(services, user)
        frame = trend_frame(services, user, scenario)
        return [
            pd.DataFrame(rows, columns=S.HISTORY_COLUMNS),
            trend_plot(frame),
            pd.DataFrame(best_rows(services, user), columns=S.BEST_COLUMNS),
            trend_note(frame, scenario),
        ]

    def on_scenario(scenario: str | None, request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        sc = scenario or ""
        frame = trend_frame(services, user, sc)
        return [trend_plot(frame), trend_note(frame, sc)]

    refresh.click(load, None, [table, plot, best, trend_head], api_name="history")
    scenario_pick.input(on_scenario, [scenario_pick], [plot, trend_head], api_visibility="private")
    return {"load": load, "outputs": [table, plot, best, trend_head]}


def effective_overall(row: dict[str, Any]) -> float | None:
    """The figure the session's report shows: a trainer's reviewed grade, else the machine's."""
    reviewed = row.get("reviewed_overall")
    return reviewed if reviewed is not None else row.get("overall")
