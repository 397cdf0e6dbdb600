"""Staff pages besides the studio: 「やり取りの確認」 (review_transcripts) and 「閲覧記録»
(read_audit_log). Each handler asks the application layer, which checks the capability on
the server; opening someone's session is written to the audit log there.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from simulator.app.permissions import AccessDenied, Capability
from simulator.app.services import AssignInputError, ReviewInputError, Services
from simulator.models import CRITERION_LABELS, SCENARIO_LABELS, CriterionId, ScenarioId
from simulator.report import grade_for
from simulator.report_render import SCORE_LABELS
from simulator.store import ROLE_LABELS, NotFound
from simulator.ui import strings as S
from simulator.ui.common import current_user, fail, local_time, staff_user
from simulator.ui.history import effective_overall


def review_rows(services: Services, viewer: Any) -> list[list[Any]]:
    out = []
    for r in services.review_list(viewer):
        overall = effective_overall(r)
        grade = grade_for(overall)[0] if overall is not None else "—"
        out.append(
            [
                local_time(r["created_at"]).strftime("%Y-%m-%d %H:%M"),
                r["display_name"],
                r["department"] or "—",
                SCENARIO_LABELS[ScenarioId(r["scenario"])],
                (
                    f"{grade} ({overall:.0f})"
                    + (S.HISTORY_REVIEWED if r.get("reviewed_overall") is not None else "")
                )
                if overall is not None
                else "—",
                S.REVIEW_LOW.format(n=r["flagged"]) if r["flagged"] else "",
                r["id"],
            ]
        )
    return out


def build_review(services: Services) -> dict[str, Any]:
    from simulator.report_render import render_html

    gr.Markdown(S.REVIEW_TITLE)
    gr.Markdown(S.REVIEW_HELP)
    refresh = gr.Button(S.REVIEW_REFRESH, elem_id="review-refresh")
    table = gr.Dataframe(headers=S.REVIEW_COLUMNS, interactive=False, elem_id="review-table", wrap=True)
    with gr.Row():
        pick = gr.Dropdown(label=S.REVIEW_PICK, choices=[], elem_id="review-pick", scale=4)
        open_btn = gr.Button(S.REVIEW_OPEN, elem_id="review-open", scale=1)
    with gr.Group(visible=False, elem_id="override-box") as override_box:
        gr.Markdown(S.OVERRIDE_TITLE)
        with gr.Row():
            ov_turn = gr.Dropdown(label=S.OVERRIDE_TURN, choices=[], elem_id="override-turn", scale=2)
            ov_crit = gr.Dropdown(
                label=S.OVERRIDE_CRITERION, choices=[(v, k.value) for k, v in CRITERION_LABELS.items()],
                elem_id="override-criterion", scale=2,
            )  # fmt: skip
            ov_score = gr.Dropdown(
                label=S.OVERRIDE_SCORE, choices=[(f"{k} {v}", k) for k, v in SCORE_LABELS.items()],
                elem_id="override-score", scale=2,
            )  # fmt: skip
        ov_reason = gr.Textbox(label=S.OVERRIDE_REASON, lines=2, max_length=500, elem_id="override-reason")
        ov_go = gr.Button(S.OVERRIDE_GO, variant="primary", elem_id="override-go")
        ov_done = gr.Markdown(elem_id="override-done")
        gr.HTML(
            f'<a id="overrides-export" class="kr-download" href="/kasuhara/overrides.jsonl" download>'
            f"{S.OVERRIDE_EXPORT}</a>"
        )
    report = gr.HTML(elem_id="review-report")

    def load(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if Capability.review_transcripts not in services.capabilities(user):
            return [gr.skip(), gr.skip()]
        return listing(user)

    def listing(user: Any) -> list[Any]:
        rows = review_rows(services, user)
        choices = [(f"{r[0]} {r[1]}（{r[2]}）{r[3]}", r[-1]) for r in rows]
        return [rows, gr.update(choices=choices, value=None)]

    def refreshed(request: gr.Request) -> list[Any]:
        return listing(staff_user(services, request, Capability.review_transcripts))

    refresh.click(refreshed, None, [table, pick], api_name="review_list")

    def open_session(sid: str | None, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.review_transcripts)
        if not sid:
            fail(S.REVIEW_PICK)
        try:
            rep = services.report(user, sid)  # type: ignore[arg-type]  # audited by the service
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        can_override = Capability.override_scores in services.capabilities(user)
        turns = [(f"ターン{t.index}: {t.trainee[:30]}", t.index) for t in rep.turns]
        return [
            render_html(rep, standalone=False, staff=True),
            gr.update(visible=can_override),
            gr.update(choices=turns, value=None),
        ]

    open_btn.click(open_session, [pick], [report, override_box, ov_turn], api_name="review_open")

    def do_override(
        sid: str | None,
        turn: int | None,
        crit: str | None,
        score: int | None,
        reason: str,
        request: gr.Request,
    ) -> list[Any]:
        user = staff_user(services, request, Capability.override_scores)
        if not sid or not turn or not crit or score is None:
            fail(S.OVERRIDE_PICK)
        try:
            services.override_score(user, sid, int(turn), crit, int(score), reason or "")  # type: ignore[arg-type]
            rep = services.report(user, sid)  # type: ignore[arg-type]
        except ReviewInputError as e:
            fail(str(e))
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        return [S.OVERRIDE_DONE.format(turn=turn), render_html(rep, standalone=False, staff=True), ""]

    ov_go.click(
        do_override, [pick, ov_turn, ov_crit, ov_score, ov_reason], [ov_done, report, ov_reason],
        api_name="review_override",
    )  # fmt: skip
    return {"load": load, "outputs": [table, pick]}


def audit_rows(
    services: Services,
    viewer: Any,
    action: str | None = None,
    actor: str = "",
    subject: str = "",
    since: str = "",
    until: str = "",
) -> list[list[Any]]:
    """The entries the viewer may read, filtered; ``actor`` / ``subject`` are user names."""
    from simulator.app.exports import parse_day

    ids: dict[str, str | None] = {}
    for key, name in (("actor", actor), ("subject", subject)):
        name = (name or "").strip()
        ids[key] = None
        if name:
            u = services.store.find_user(name)
            if u is None:
                fail(S.AUDIT_NO_USER.format(name=name))
            ids[key] = u.id
    try:
        start, end = parse_day(since), parse_day(until)
    except ValueError:
        fail(S.ASSIGN_BAD_DATE)
    out = []
    entries = services.audit_log(viewer, action=action or None, actor_id=ids["actor"], subject_user_id=ids["subject"],
                                 since=start, until=end)  # fmt: skip
    for e in entries:
        detail = e["detail"] or {}
        what = detail.get("what") or (
            f"{detail.get('persona', '')} v{detail.get('version', '')}" if detail.get("persona") else ""
        )
        if e["action"] == "export" and not what:
            what = f"{detail.get('kind', '')} {detail.get('rows', '')} 件"
        out.append(
            [
                local_time(e["at"]).strftime("%Y-%m-%d %H:%M:%S"),
                S.AUDIT_ACTIONS.get(e["action"], e["action"]),
                e["actor_name"],
                e["subject_name"] or "—",
                e.get("subject_department") or "—",
                (e["session_id"] or "")[:8],
                what,
            ]
        )
    return out


def build_audit(services: Services) -> dict[str, Any]:
    gr.Markdown(S.AUDIT_TITLE)
    with gr.Row():
        action = gr.Dropdown(
            label="操作", choices=[("すべて", ""), *[(v, k) for k, v in S.AUDIT_ACTIONS.items()]], value="",
            elem_id="audit-action", scale=2,
        )  # fmt: skip
        actor = gr.Textbox(label="した人（ユーザー名）", elem_id="audit-actor", scale=1)
        subject = gr.Textbox(label="対象の受講者（ユーザー名）", elem_id="audit-subject", scale=1)
        since = gr.Textbox(label="開始日（YYYY-MM-DD）", elem_id="audit-since", scale=1)
        until = gr.Textbox(label="終了日（この日の前まで）", elem_id="audit-until", scale=1)
        refresh = gr.Button(S.AUDIT_SHOW, elem_id="audit-refresh", scale=1)
    table = gr.Dataframe(headers=S.AUDIT_COLUMNS, interactive=False, elem_id="audit-table", wrap=True)

    def load(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if Capability.read_audit_log not in services.capabilities(user):
            return [gr.skip()]
        return [audit_rows(services, user)]

    def filtered(
        act: str | None, who: str, whose: str, s: str, u: str, request: gr.Request
    ) -> list[list[Any]]:
        # one output: the rows themselves (a list around them would be read as one row)
        viewer = staff_user(services, request, Capability.read_audit_log)
        return audit_rows(services, viewer, act, who, whose, s, u)

    inputs = [action, actor, subject, since, until]
    refresh.click(filtered, inputs, [table], api_name="audit_log")
    action.change(filtered, inputs, [table], api_visibility="private")
    return {"load": load, "outputs": [table]}


def who_viewed_md(services: Services, user: Any) -> str:
    entries = services.who_viewed_mine(user)
    if not entries:
        return f"{S.WHO_VIEWED}\n{S.WHO_VIEWED_NONE}"
    lines = [
        f"- {local_time(e['at']).strftime('%Y-%m-%d %H:%M')} {e['actor_name']}（{ROLE_LABELS.get(e['actor_role'], e['actor_role'])}）"
        for e in entries[:20]
    ]
    return S.WHO_VIEWED + "\n" + "\n".join(lines)


def assigned_md(services: Services, user: Any) -> str:
    """The trainee's assigned practices, for the top of the picker."""
    rows = services.my_assignments(user)
    if not rows:
        return ""
    words = {"done": "✓ 完了", "overdue": "⚠ 期限切れ", "open": "未完了"}
    lines = [S.ASSIGNED_TITLE]
    for a in rows:
        lines.append(
            f"- **{words[a['status']]}**　{a['title']}　期限 {a['due']:%Y-%m-%d}"
            + (f"　（{a['note']}）" if a["note"] else "")
        )
    return "\n".join(lines)


def assignment_rows(services: Services, viewer: Any) -> list[list[Any]]:
    return [
        [
            a["title"],
            f"部署: {a['department']}" if a["department"] else f"受講者: {a['assignee_name'] or '—'}",
            a["due"].isoformat(),
            f"{a['completed']} / {a['total']}",
            a["note"],
        ]
        for a in services.assignment_status(viewer)
    ]


def build_assign(services: Services) -> dict[str, Any]:
    from datetime import date

    gr.Markdown(S.ASSIGN_TITLE)
    with gr.Row():
        persona = gr.Dropdown(label=S.ASSIGN_PERSONA, choices=[], elem_id="assign-persona", scale=3)
        due = gr.Textbox(label=S.ASSIGN_DUE, placeholder="2026-12-31", elem_id="assign-due", scale=1)
    with gr.Row():
        department = gr.Textbox(label=S.ASSIGN_DEPARTMENT, elem_id="assign-department", scale=2)
        names = gr.Textbox(label=S.ASSIGN_USERS, elem_id="assign-users", scale=3)
    note = gr.Textbox(label=S.ASSIGN_NOTE, elem_id="assign-note")
    go = gr.Button(S.ASSIGN_GO, variant="primary", elem_id="assign-go")
    done = gr.Markdown(elem_id="assign-done")
    table = gr.Dataframe(headers=S.ASSIGN_COLUMNS, interactive=False, elem_id="assign-table", wrap=True)

    def choices() -> list[tuple[str, str]]:
        return [
            (f"{p.scenario_label}・{p.difficulty_label}：{p.short_title}", p.id)
            for p in services.personas().values()
        ]

    def load(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if Capability.assign not in services.capabilities(user):
            return [gr.skip(), gr.skip()]
        return [gr.update(choices=choices(), value=None), assignment_rows(services, user)]

    def do_assign(
        pid: str | None, when: str, dept: str, users: str, memo: str, request: gr.Request
    ) -> list[Any]:
        user = staff_user(services, request, Capability.assign)
        if not pid:
            fail(S.ASSIGN_PICK)
        try:
            day = date.fromisoformat((when or "").strip())
        except ValueError:
            fail(S.ASSIGN_BAD_DATE)
        try:
            services.assign(
                user, pid, day, department=dept, usernames=[x for x in (users or "").replace("、", ",").split(",")],
                note=memo or "",
            )  # type: ignore[arg-type]  # fmt: skip
        except AssignInputError as e:
            fail(str(e))
        return [S.ASSIGN_DONE, assignment_rows(services, user)]

    go.click(do_assign, [persona, due, department, names, note], [done, table], api_name="assign")
    return {"load": load, "outputs": [persona, table]}


def user_rows(services: Services, admin: Any) -> list[list[Any]]:
    return [
        [
            u.username,
            u.display_name,
            ROLE_LABELS.get(u.role, u.role),
            u.department or "—",
            "有効" if u.active else "無効",
        ]
        for u in services.users(admin)
    ]


def build_users(services: Services) -> dict[str, Any]:
    gr.Markdown(S.USERS_TITLE)
    table = gr.Dataframe(headers=S.USERS_COLUMNS, interactive=False, elem_id="users-table", wrap=True)
    roles = [(v, k) for k, v in ROLE_LABELS.items()]
    with gr.Accordion(S.USERS_ADD, open=True):
        with gr.Row():
            username = gr.Textbox(label="ユーザー名", elem_id="user-username")
            display = gr.Textbox(label="表示名", elem_id="user-display")
            role = gr.Dropdown(label="役割", choices=roles, value="trainee", elem_id="user-role")
            dept = gr.Textbox(label="部署", elem_id="user-department")
        add = gr.Button(S.USERS_ADD_GO, variant="primary", elem_id="user-add")
    with gr.Accordion(S.USERS_CHANGE, open=False, elem_id="users-change"):
        with gr.Row():
            target = gr.Textbox(label="ユーザー名", elem_id="user-target")
            new_role = gr.Dropdown(label="新しい役割（変えない時は空）", choices=[("（変えない）", ""), *roles], value="",
                                   elem_id="user-new-role")  # fmt: skip
            new_dept = gr.Textbox(label="新しい部署（変えない時は空）", elem_id="user-new-department")
        with gr.Row():
            change = gr.Button(S.USERS_CHANGE_GO, elem_id="user-change")
            reset = gr.Button(S.USERS_RESET, elem_id="user-reset")
            disable = gr.Button(S.USERS_DISABLE, variant="stop", elem_id="user-disable")
            enable = gr.Button(S.USERS_ENABLE, elem_id="user-enable")
    csv_file = gr.File(label=S.USERS_CSV, file_types=[".csv"], elem_id="users-csv")
    result = gr.Markdown(elem_id="users-result")

    def load(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if Capability.manage_users not in services.capabilities(user):
            return [gr.skip()]
        return [user_rows(services, user)]

    def admin_of(request: gr.Request) -> Any:
        return staff_user(services, request, Capability.manage_users)

    def do_add(name: str, disp: str, r: str, d: str, request: gr.Request) -> list[Any]:
        admin = admin_of(request)
        try:
            u, pw = services.add_user(
                admin, name or "", role=r or "trainee", department=d or "", display_name=disp or ""
            )
        except ValueError as e:
            fail(str(e).split(" / ")[0])
        msg = S.USERS_ADDED.format(name=u.username) + (S.USERS_PASSWORD.format(pw=pw) if pw else "")
        return [msg, user_rows(services, admin)]

    add.click(do_add, [username, display, role, dept], [result, table], api_name="users_add")

    def do_change(name: str, r: str, d: str, request: gr.Request) -> list[Any]:
        admin = admin_of(request)
        try:
            services.change_user(admin, (name or "").strip(), role=r or None, department=d if d else None)
        except NotFound:
            fail(S.USERS_NOT_FOUND.format(name=name))
        except ValueError as e:
            fail(str(e).split(" / ")[0])
        return [S.USERS_CHANGED.format(name=name), user_rows(services, admin)]

    change.click(do_change, [target, new_role, new_dept], [result, table], api_name="users_change")

    def do_reset(name: str, request: gr.Request) -> list[Any]:
        admin = admin_of(request)
        try:
            pw = services.reset_password(admin, (name or "").strip())
        except NotFound:
            fail(S.USERS_NOT_FOUND.format(name=name))
        return [
            S.USERS_RESET_DONE.format(name=name) + S.USERS_PASSWORD.format(pw=pw),
            user_rows(services, admin),
        ]

    reset.click(do_reset, [target], [result, table], api_name="users_reset")

    def do_disable(name: str, request: gr.Request) -> list[Any]:
        admin = admin_of(request)
        try:
            services.disable_user(admin, (name or "").strip())
        except NotFound:
            fail(S.USERS_NOT_FOUND.format(name=name))
        except ValueError as e:
            fail(str(e))
        return [S.USERS_DISABLED.format(name=name), user_rows(services, admin)]

    disable.click(do_disable, [target], [result, table], api_name="users_disable")

    def do_enable(name: str, request: gr.Request) -> list[Any]:
        admin = admin_of(request)
        try:
            services.enable_user(admin, (name or "").strip())
        except NotFound:
            fail(S.USERS_NOT_FOUND.format(name=name))
        return [S.USERS_ENABLED.format(name=name), user_rows(services, admin)]

    enable.click(do_enable, [target], [result, table], api_name="users_enable")

    def do_csv(file: Any, request: gr.Request) -> list[Any]:
        admin = admin_of(request)
        if file is None:
            return [gr.skip(), gr.skip()]
        try:
            with open(getattr(file, "name", file), encoding="utf-8") as fh:
                text = fh.read()
        except UnicodeDecodeError:
            fail(S.USERS_CSV_NOT_UTF8)
        added, problems = services.add_users_csv(admin, text)
        if problems:
            fail(S.USERS_CSV_PROBLEMS + "　" + "／".join(problems[:5]))
        lines = [S.USERS_CSV_DONE.format(n=len(added))] + [
            f"- {name}" + (f"（初期パスワード `{pw}`）" if pw else "") for name, pw in added
        ]
        return ["\n".join(lines), user_rows(services, admin)]

    csv_file.upload(do_csv, [csv_file], [result, table], api_name="users_csv")
    return {"load": load, "outputs": [table]}


def _heat_html(heat: dict[str, dict[str, float | None]]) -> str:
    """Department × criterion, each cell the mean achievement (%), shaded."""
    if not heat:
        return f"<p>{S.DASH_EMPTY}</p>"
    crits = [c for c in CRITERION_LABELS if any(c.value in row for row in heat.values())]
    head = "".join(f"<th>{html.escape(CRITERION_LABELS[c])}</th>" for c in crits)
    body = []
    for dept, row in sorted(heat.items()):
        cells = []
        for c in crits:
            v = row.get(c.value)
            if v is None:
                cells.append('<td class="kr-unscored">—</td>')
                continue
            # red (low) to green (high), light enough for black text
            hue = int(120 * max(0.0, min(100.0, v)) / 100)
            cells.append(f'<td style="background:hsl({hue},70%,85%);text-align:right">{v:.0f}%</td>')
        body.append(f'<tr><th scope="row">{html.escape(dept)}</th>{"".join(cells)}</tr>')
    return f'<table id="dash-heat-table"><thead><tr><th>部署</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d", "#ff9da6",
           "#bab0ac")  # fmt: skip


def group_personas(services: Services, group: str) -> tuple[str, ...]:
    """The persona ids of a group (営業担当 / サポート担当), over every stored persona."""
    from simulator.app.dashboard import persona_group

    if not group:
        return ()
    return tuple(sorted(pid for pid, p in services.catalog.all_latest().items() if persona_group(p) == group))


COHORT_ROWS = 100  # trainees listed at once (the rest by sorting, searching or the CSV)


def table_html(elem_id: str, headers: list[str], rows: list[list[Any]], max_height: int) -> str:
    """A plain, scrollable table (escaped): a hundred rows of it render in a few milliseconds,
    where the interactive table component took about a third of a second."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f'<td{" class=num" if isinstance(v, int | float) else ""}>{html.escape(str(v))}</td>' for v in r
        ) + "</tr>"
        for r in rows
    )  # fmt: skip
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">{html.escape(S.DASH_EMPTY)}</td></tr>'
    return (f'<div class="kr-table" style="max-height:{max_height}px"><table id="{elem_id}"><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")  # fmt: skip


def _dept_rows(depts: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [d["department"], d["sessions"], d["conceded"], f"{d['share'] * 100:.0f}%",
         "—" if d["mean_overall"] is None else d["mean_overall"]]
        for d in depts
    ]  # fmt: skip


def _pct(v: float | None) -> Any:
    return "—" if v is None else v


def trend_svg(points: list[tuple[str, str, float, int]]) -> str:
    """Weekly achievement as an inline SVG line chart with its legend: ``points`` are
    (week, series, percent, n). Drawn here rather than by a plotting component, which took
    about half a second a view to redraw in Chromium and kept the previous view's legend."""
    if not points:
        return f'<div id="dash-trend-chart"><p>{S.DASH_EMPTY}</p></div>'
    weeks = sorted({p[0] for p in points})
    series = list(dict.fromkeys(p[1] for p in points))
    w, h, left, right, top, bottom = 1100, 280, 44, 12, 10, 36
    pw, ph = w - left - right, h - top - bottom

    at = {wk: i for i, wk in enumerate(weeks)}

    def x(week: str) -> float:
        return left + (pw * at[week] / max(1, len(weeks) - 1) if len(weeks) > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (1 - max(0.0, min(100.0, v)) / 100)

    parts = [f'<svg id="dash-trend-svg" viewBox="0 0 {w} {h}" role="img" aria-label="{S.DASH_TREND_LABEL}" '
             f'style="width:100%;height:auto;font-size:12px">']  # fmt: skip
    for v in range(0, 101, 20):
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#555">{v}</text>')  # fmt: skip
    step = max(1, len(weeks) // 10)
    for i, wk in enumerate(weeks):
        if i % step == 0 or i == len(weeks) - 1:
            parts.append(f'<text x="{x(wk):.1f}" y="{h - bottom + 16}" text-anchor="middle" fill="#555">'
                         f"{html.escape(wk[5:])}</text>")  # fmt: skip
    by: dict[str, list[tuple[str, float, int]]] = {}
    for wk, name, pct, n in points:
        by.setdefault(name, []).append((wk, pct, n))
    dots = len(points) <= 800
    legend = []
    for i, name in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        dash = "" if i < len(PALETTE) else ' stroke-dasharray="6 3"'
        pts = sorted(by[name], key=lambda p: at[p[0]])
        coords = " ".join(f"{x(wk):.1f},{y(v):.1f}" for wk, v, _n in pts)
        label = html.escape(name)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{coords}">'
                     f"<title>{label}</title></polyline>")  # fmt: skip
        if dots:
            parts += [f'<circle cx="{x(wk):.1f}" cy="{y(v):.1f}" r="3" fill="{color}"><title>{html.escape(wk)} '
                      f"{label} {v:.0f}%（{n}件）</title></circle>" for wk, v, n in pts]  # fmt: skip
        legend.append(f'<span class="kr-legend-item"><span style="display:inline-block;width:14px;height:3px;'
                      f'background:{color};vertical-align:middle"></span> {label}</span>')  # fmt: skip
    parts.append(
        f'<text x="{left + pw / 2:.0f}" y="{h - 4}" text-anchor="middle" fill="#333">{S.DASH_TREND_X}</text>'
    )
    parts.append("</svg>")
    return (f'<div id="dash-trend-chart"><p><b>{S.DASH_TREND_TITLE}</b></p>{"".join(parts)}'
            f'<p id="dash-trend-legend" style="display:flex;flex-wrap:wrap;gap:4px 16px">{"".join(legend)}</p></div>')  # fmt: skip


def build_dashboard(services: Services, saved: Any) -> dict[str, Any]:
    """``saved``: a ``gr.BrowserState`` made outside the tabs (a hidden tab's is never mounted)."""
    from simulator.app.dashboard import COHORT_ORDERS, GROUPS, PERIODS, Filters, period_bounds
    from simulator.app.exports import parse_day
    from simulator.ui.exports import export_url

    gr.Markdown(S.DASH_TITLE)
    with gr.Row():
        departments = gr.Dropdown(
            label="部署", choices=[], multiselect=True, elem_id="dash-departments", scale=3
        )
        scenario = gr.Dropdown(label="場面", choices=[("すべて", ""), *[(v, k.value) for k, v in SCENARIO_LABELS.items()]],
                               value="", elem_id="dash-scenario", scale=2)  # fmt: skip
        group = gr.Dropdown(label="担当", choices=[(v, k) for k, v in GROUPS.items()], value="",
                            elem_id="dash-group", scale=1)  # fmt: skip
        difficulty = gr.Dropdown(label="難易度", choices=[("すべて", ""), ("標準", "standard"), ("強硬", "hard")], value="",
                                 elem_id="dash-difficulty", scale=1)  # fmt: skip
        criterion = gr.Dropdown(label="基準", choices=[("すべて", ""), *[(v, k.value) for k, v in CRITERION_LABELS.items()]],
                                value="", elem_id="dash-criterion", scale=1)  # fmt: skip
    with gr.Row():
        period = gr.Dropdown(label="期間", choices=[(v, k) for k, v in PERIODS.items()], value="",
                             elem_id="dash-period", scale=1)  # fmt: skip
        since = gr.Textbox(label="開始日（YYYY-MM-DD）", elem_id="dash-since", scale=1)
        until = gr.Textbox(label="終了日（この日の前まで）", elem_id="dash-until", scale=1)
        version = gr.Dropdown(label=S.DASH_VERSION, choices=[], elem_id="dash-version", scale=3)
        show = gr.Button(S.DASH_SHOW, variant="primary", elem_id="dash-show", scale=1)
    headline = gr.Markdown(elem_id="dash-headline")
    downloads = gr.HTML(elem_id="dash-downloads")
    gr.Markdown(S.DASH_DEPTS_TITLE)
    dept_table = gr.HTML(elem_id="dash-depts")
    heat = gr.HTML(elem_id="dash-heat")
    trend = gr.HTML(elem_id="dash-trend")
    with gr.Row():
        cohort_title = gr.Markdown(S.DASH_COHORT_TITLE.format(shown=0, total=0), elem_id="dash-cohort-title")
        name = gr.Textbox(label="受講者名で探す（一部でも）", elem_id="dash-name", scale=1)
        order = gr.Dropdown(label="並べ替え", choices=[(v, k) for k, v in COHORT_ORDERS.items()], value="conceded",
                            elem_id="dash-order", scale=1)  # fmt: skip
    cohort = gr.HTML(elem_id="dash-cohort")
    # drill-down: cohort → person → session (read-only; each view is written to the audit log)
    with gr.Row():
        person = gr.Dropdown(
            label=S.DASH_PERSON, choices=[], elem_id="dash-person", scale=2, allow_custom_value=True
        )
        session = gr.Dropdown(
            label=S.DASH_SESSION, choices=[], elem_id="dash-session", scale=3, allow_custom_value=True
        )
        open_session = gr.Button(S.REVIEW_OPEN, elem_id="dash-open", scale=1)
    session_report = gr.HTML(elem_id="dash-report")

    def set_period(name: str) -> list[str]:
        start, end = period_bounds(name or "", local_time(datetime.now(UTC)).date())
        return [start.isoformat() if start else "", end.isoformat() if end else ""]

    period.input(set_period, [period], [since, until], api_visibility="private")

    def person_sessions(uid: str | None, request: gr.Request) -> Any:
        user = staff_user(services, request, Capability.view_dashboards)
        if not uid:
            return gr.update(choices=[], value=None)
        rows = [r for r in services.sessions_of(user, uid) if not r["parent_id"]]
        choices = [
            (f"{local_time(r['created_at']):%Y-%m-%d %H:%M} {SCENARIO_LABELS[ScenarioId(r['scenario'])]}"
             f"（{'—' if effective_overall(r) is None else f'{effective_overall(r):.0f}%'}）", r["id"])
            for r in reversed(rows)
        ]  # fmt: skip
        return gr.update(choices=choices, value=None)

    person.change(person_sessions, [person], [session], api_name="dashboard_person")

    def show_session(sid: str | None, request: gr.Request) -> str:
        from simulator.report_render import render_html

        user = staff_user(services, request, Capability.view_dashboards)
        if not sid:
            fail(S.REVIEW_PICK)
        try:
            rep = services.report(user, sid)  # type: ignore[arg-type]  # audited by the service
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        return render_html(rep, standalone=False, staff=True)

    open_session.click(show_session, [session], [session_report], api_name="dashboard_open")

    def _date(text: str) -> datetime | None:
        try:
            return parse_day(text)
        except ValueError:
            fail(S.ASSIGN_BAD_DATE)

    def compute(user: Any, depts: list[str] | None, sc: str, grp: str, diff: str, crit: str, s: str, u: str,
                v: str | None, nm: str, od: str) -> list[Any]:  # fmt: skip
        personas = group_personas(services, grp or "")
        f = Filters(departments=tuple(depts or ()), scenario=sc or None, personas=personas, difficulty=diff or None,
                    criterion=crit or None, version=v or None, since=_date(s), until=_date(u),
                    name=(nm or "").strip()[:64])  # fmt: skip
        d = services.dashboard(user, f, order=od or "conceded", limit=COHORT_ROWS)
        h = d["headline"]
        share = "—" if h.get("concession_share") is None else f"{h['concession_share'] * 100:.0f}%"
        med = "—" if h.get("median_overall") is None else f"{h['median_overall']:.0f}%"
        done = services.assignment_status(user)
        completion = f"{sum(a['completed'] for a in done)} / {sum(a['total'] for a in done)}" if done else "—"
        md = S.DASH_HEADLINE.format(
            trainees=h.get("active_trainees", 0), sessions=h.get("sessions", 0), share=share, median=med,
            completion=completion, version=d["version"] or "—", conceded=h.get("conceded_sessions", 0),
        )  # fmt: skip
        trend_points = [
            (x["week"], x["department"] if crit else CRITERION_LABELS[CriterionId(x["criterion"])], x["percent"],
             x["n"])
            for x in d["trend"]
        ]  # fmt: skip
        per_user = services.assignment_completion(user, done)
        rows = [
            [r["name"], r["department"] or "—", r["sessions"], _pct(r["mean_overall"]), _pct(r["first"]),
             _pct(r["best"]), _pct(r["latest"]), r["conceded"],
             CRITERION_LABELS[CriterionId(r["weakest"])] if r["weakest"] else "—",
             per_user.get(r["user_id"], "—")]
            for r in d["cohort"]
        ]  # fmt: skip
        people = [(f"{r['name']}（{r['department'] or '—'}）", r["user_id"]) for r in d["cohort"]]
        params = {"department": list(depts or []), "since": s.strip(), "until": u.strip(), "persona": list(personas),
                  "scenario": sc}  # fmt: skip
        links = (
            f'<p class="kr-downloads">{S.DASH_EXPORT}: '
            f'<a id="dash-export-csv" class="kr-download" href="{html.escape(export_url("sessions.csv", **params))}" download>'
            f"CSV（セッションごと）</a> "
            f'<a id="dash-export-criteria" class="kr-download" href="{html.escape(export_url("criteria.csv", **params))}" download>'
            f"CSV（セッション×基準）</a> "
            f'<a id="dash-export-xapi" class="kr-download" href="{html.escape(export_url("xapi.json", **params))}" download>'
            f"xAPI（JSON）</a></p>"
        )  # fmt: skip
        plot = trend_svg(trend_points)
        title = S.DASH_COHORT_TITLE.format(shown=len(d["cohort"]), total=d.get("cohort_total", 0))
        return [md, links, table_html("dash-depts-table", S.DASH_DEPTS, _dept_rows(d["departments"]), 320),
                _heat_html(d["heat"]), plot, title, table_html("dash-cohort-table", S.DASH_COHORT, rows, 480),
                gr.update(choices=d["versions"], value=d["version"]), gr.update(choices=people, value=None)]  # fmt: skip

    outputs = [headline, downloads, dept_table, heat, trend, cohort_title, cohort, version, person]
    keys = ("departments", "scenario", "group", "difficulty", "criterion", "period", "since", "until", "version",
            "name", "order")  # fmt: skip

    def do_show(depts: list[str] | None, sc: str, grp: str, diff: str, crit: str, per: str, s: str, u: str,
                v: str | None, nm: str, od: str, request: gr.Request) -> list[Any]:  # fmt: skip
        user = staff_user(services, request, Capability.view_dashboards)
        kept = dict(zip(keys, (depts or [], sc, grp, diff, crit, per, s, u, v, nm, od), strict=True))
        return [*compute(user, depts, sc, grp, diff, crit, s, u, v, nm, od), kept]

    inputs = [departments, scenario, group, difficulty, criterion, period, since, until, version, name, order]
    show.click(do_show, inputs, [*outputs, saved], api_name="dashboard")
    order.input(do_show, inputs, [*outputs, saved], api_visibility="private")
    name.submit(do_show, inputs, [*outputs, saved], api_visibility="private")

    def restore(kept: dict[str, Any] | None, request: gr.Request) -> list[Any]:
        """On page load: the departments to choose from, and the view last shown in this browser."""
        user = current_user(services, request)
        if Capability.view_dashboards not in services.capabilities(user):
            return [gr.skip()] * (len(inputs) - 1 + len(outputs))
        k = kept or {}
        depts = services.departments(user)
        defaults: dict[str, Any] = {"departments": [], "version": None, "order": "conceded"}
        values: list[Any] = [k.get(n) or defaults.get(n, "") for n in keys]
        if values[5]:  # a named period moves with the calendar
            values[6], values[7] = set_period(values[5])
        shown = compute(user, *values[:5], *values[6:])
        # every input but the version (the figures set it: it lists the versions the data holds)
        return [gr.update(choices=depts, value=values[0]), *values[1:8], *values[9:], *shown]

    # the version dropdown is set by the figures (it lists the versions the data holds)
    return {"restore": restore, "inputs": [saved], "outputs": [*inputs[:8], *inputs[9:], *outputs]}
