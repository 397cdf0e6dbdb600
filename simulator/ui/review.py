"""The 報告書・振り返り tab: the report, downloads, print, retry from a turn, the 報告 drill."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from simulator.app.permissions import AccessDenied, Capability
from simulator.app.services import DrillInputError, ReplyInputError, Services
from simulator.models import OUTCOME_LABELS, Outcome
from simulator.store import NotFound
from simulator.ui import strings as S
from simulator.ui.common import current_user, fail, local_time


def session_choices(services: Services, user: Any) -> list[tuple[str, str]]:
    ps = services.personas()
    out = []
    for row in services.history(user):
        p = ps.get(row["persona_id"])
        title = p.title if p else row["persona_id"]
        when = local_time(row["created_at"]).strftime("%m/%d %H:%M")
        branch = f"・ターン{row['branch_turn']}からやり直し" if row["parent_id"] else ""
        out.append((f"{when} {title}{branch}（{OUTCOME_LABELS[Outcome(row['outcome'])]}）", row["id"]))
    return out


def _download_link(session_id: str, fmt: str, label: str) -> str:
    from simulator.ui.exports import url_for

    href = html.escape(url_for(session_id, fmt), quote=True)
    return f'<a id="download-{fmt}" class="kr-download" href="{href}" download>{html.escape(label)}</a>'


def drill_result_html(result: Any) -> str:
    data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(vars(result))
    rows = []
    for item in data.get("items", []):
        mark = "✓" if item.get("ok") else "✗"
        cls = "ok" if item.get("ok") else "ng"
        rows.append(
            f'<li class="{cls}"><b>{mark} {html.escape(item.get("label", ""))}</b>: '
            f"{html.escape(item.get('message', ''))}</li>"
        )
    score = data.get("score")
    return (
        f'<div class="drill-result" id="drill-result-body"><p><b>記録（報告ドリル）: {score if score is not None else "—"} / 3</b> '
        f"{html.escape(data.get('summary', ''))}</p><ul>{''.join(rows)}</ul></div>"
    )


def _instruction_md(services: Services, session: Any) -> str:
    """After a hand-off the scene goes on: what the superior told the trainee to do."""
    from simulator.drill import superior_instruction

    said = superior_instruction(session, services.persona_of(session))
    return S.DRILL_INSTRUCTION.format(text=said) if said else ""


def build(services: Services, session_id: gr.State) -> dict[str, Any]:
    from simulator.drill import DRILL_FIELDS, MAX_FIELD_CHARS
    from simulator.report_render import render_html

    with gr.Row():
        pick = gr.Dropdown(
            label=S.REPORT_PICK, choices=[], elem_id="report-pick", scale=4, allow_custom_value=True
        )
        show = gr.Button(S.REPORT_SHOW, elem_id="report-show", scale=1)
    report_html = gr.HTML(f"<p>{S.REPORT_EMPTY}</p>", elem_id="report")
    with gr.Row(elem_id="report-actions"):
        # links to files made on request (ui/exports.py), checked on the server like every page
        dl_html = gr.HTML(visible=False, elem_id="download-html-box")
        dl_md = gr.HTML(visible=False, elem_id="download-md-box")
        print_btn = gr.Button(S.PRINT, elem_id="print", visible=False)
    print_btn.click(None, None, None, js="() => window.print()")

    with gr.Group(visible=False, elem_id="retry-box") as retry_box:
        gr.Markdown(S.RETRY_TITLE)
        gr.Markdown(S.RETRY_HELP)
        with gr.Row():
            retry_turn = gr.Dropdown(label=S.RETRY_TURN, choices=[], elem_id="retry-turn", scale=2)
            retry_text = gr.Textbox(label=S.RETRY_REPLY, lines=2, elem_id="retry-reply", scale=5)
        retry_go = gr.Button(S.RETRY_GO, variant="primary", elem_id="retry-go")

    with gr.Group(visible=False, elem_id="drill-box") as drill_box:
        gr.Markdown(S.DRILL_TITLE)
        gr.Markdown(S.DRILL_HELP)
        drill_instruction = gr.Markdown(elem_id="drill-instruction")
        drill_inputs = []
        for key, label, help_text in DRILL_FIELDS:
            drill_inputs.append(
                gr.Textbox(
                    label=label,
                    placeholder=help_text,
                    lines=1 if key != "result" else 2,
                    max_length=MAX_FIELD_CHARS,
                    elem_id=f"drill-{key}",
                )
            )
        drill_go = gr.Button(S.DRILL_SUBMIT, variant="primary", elem_id="drill-submit")
        drill_out = gr.HTML(elem_id="drill-feedback")

    outputs = [
        report_html,
        dl_html,
        dl_md,
        print_btn,
        retry_box,
        retry_turn,
        drill_box,
        pick,
        drill_instruction,
    ]

    def show_report(sid: str | None, request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if not sid:
            fail(S.NO_SESSION)
        try:
            rep, session = services.report_and_session(user, sid)  # type: ignore[arg-type]
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        # trainers and HR read the judge's confidence and the rules' reading; trainees do not
        staff = Capability.review_transcripts in services.capabilities(user)
        own = session.user_id == user.id
        turns = [(f"ターン{t.index}: {t.trainee[:30]}", t.index) for t in session.turns]
        return [
            render_html(rep, standalone=False, staff=staff),
            gr.update(value=_download_link(session.id, "html", S.DOWNLOAD_HTML), visible=True),
            gr.update(value=_download_link(session.id, "md", S.DOWNLOAD_MD), visible=True),
            gr.update(visible=True),
            gr.update(visible=own and bool(session.turns)),
            gr.update(choices=turns, value=None),
            gr.update(visible=own),
            gr.update(choices=session_choices(services, user), value=sid),
            _instruction_md(services, session),
        ]

    show.click(show_report, [pick], outputs, api_name="report")

    def retry(sid: str | None, turn: int | None, text: str, request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if not sid:
            fail(S.NO_SESSION)
        if not turn:
            fail(S.RETRY_NEED_TURN)
        if not text or not text.strip():
            fail(S.EMPTY_REPLY)
        try:
            branch, _turn = services.retry(user, sid, int(turn), text)  # type: ignore[arg-type]
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        except ReplyInputError as e:  # refused as /send refuses it; the text stays in the box
            fail(str(e))
        return [branch.id, ""]

    def drill(
        sid: str | None, f1: str, f2: str, f3: str, f4: str, f5: str, f6: str, f7: str, request: gr.Request
    ) -> str:
        values = [f1, f2, f3, f4, f5, f6, f7]
        user = current_user(services, request)
        if not sid:
            fail(S.NO_SESSION)
        fields = {key: (v or "") for (key, _l, _h), v in zip(DRILL_FIELDS, values, strict=True)}
        try:
            result = services.file_drill(user, sid, fields)
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        except DrillInputError as e:
            fail(str(e))
        return drill_result_html(result)

    drill_go.click(drill, [pick, *drill_inputs], [drill_out], api_name="drill").then(
        show_report, [pick], outputs, api_visibility="private"
    )

    return {
        "pick": pick,
        "show_report": show_report,
        "outputs": outputs,
        "retry_go": retry_go,
        "retry_turn": retry_turn,
        "retry_text": retry_text,
        "retry": retry,
        "drill_inputs": drill_inputs,
    }
