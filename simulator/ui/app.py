"""The Gradio app: ``create_ui(services)`` builds the Blocks; ``main()`` serves them.

Sign-in is Gradio's own auth, checked against the store's argon2 hashes; every handler
reads the signed-in user on the server (``gr.Request.username``), so calling the API
directly gives a trainee no more than the page does.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402  (the environment above must be set before import)

from simulator.ui import history, practice, review  # noqa: E402
from simulator.ui import strings as S  # noqa: E402
from simulator.ui.common import current_user  # noqa: E402
from simulator.ui.services import Services  # noqa: E402

CSS = """
#app-header h1 {margin-bottom: 0}
.cards {flex-wrap: wrap; gap: 12px}
.scenario-card {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 12px;
  background: var(--background-fill-secondary)}
.scenario-card h4 {margin: 0 0 4px 0}
.notice-box {background: #fff7e0; border-left: 4px solid #f0a500; padding: 6px 10px; border-radius: 4px; color: #5a3d00}
.notice-box ul {margin: 2px 0 0 1em}
#status {font-weight: 600}
.chips {display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0}
.chip {border-radius: 8px; padding: 6px 10px; min-width: 150px; max-width: 240px; font-size: 0.9em;
  border: 1px solid #ccc; background: #f6f6f6; color: #222}
.chip.s3, .chip.s2 {background: #e7f6ec; border-color: #6cbf84}
.chip.s1 {background: #f3f3f3}
.chip.s0 {background: #fde8e8; border-color: #e07070}
.chip.na {background: #eee; border-style: dashed}
.chip .why {font-size: 0.85em; color: #444; margin-top: 2px}
.drill-result li.ok {color: #1d6b35}
.drill-result li.ng {color: #a12020}
@media print {
  body * {visibility: hidden}
  #report, #report * {visibility: visible}
  #report {position: absolute; left: 0; top: 0; width: 100%}
}
"""


def create_ui(services: Services) -> gr.Blocks:
    with gr.Blocks(title=S.APP_TITLE, analytics_enabled=False) as demo:
        with gr.Row(elem_id="app-header"):
            gr.Markdown(f"# {S.APP_TITLE}\n{S.APP_SUBTITLE}")
            who = gr.Markdown(elem_id="who")
        session_id = gr.State(None)
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab(S.TAB_PRACTICE, id="practice", elem_id="tab-practice"):
                prac = practice.build(services, tabs, session_id)
            with gr.Tab(S.TAB_REPORT, id="report", elem_id="tab-report"):
                rev = review.build(services, session_id)
            with gr.Tab(S.TAB_HISTORY, id="history", elem_id="tab-history"):
                hist = history.build(services)

        def on_load(request: gr.Request) -> list[Any]:
            user = current_user(services, request)
            resumable = services.resumable(user)
            return [
                S.SIGNED_IN_AS.format(
                    name=user.display_name, role=user.role_label, department=user.department or "—"
                )
                + f"　[{S.SIGN_OUT}](/logout)",
                gr.update(visible=resumable is not None),
                gr.update(choices=review.session_choices(services, user)),
                *hist["load"](request),
            ]

        demo.load(
            on_load, None, [who, prac["resume"], rev["pick"], *hist["outputs"]], api_visibility="private"
        )

        def to_report(sid: str | None, request: gr.Request) -> list[Any]:
            return [gr.Tabs(selected="report"), *rev["show_report"](sid, request)]

        prac["to_report"].click(
            to_report, [session_id], [tabs, *rev["outputs"]], api_visibility="private"
        ).then(hist["load"], None, hist["outputs"], api_visibility="private")

        def retry(sid: str | None, turn: Any, text: str, request: gr.Request) -> list[Any]:
            branch_id, _ = rev["retry"](sid, turn, text, request)
            user = current_user(services, request)
            session = services.load(user, branch_id)
            last = session.turns[-1]
            return [gr.Tabs(selected="practice"), "", *prac["render"](session, last, True, False)]

        rev["retry_go"].click(
            retry,
            [rev["pick"], rev["retry_turn"], rev["retry_text"]],
            [tabs, rev["retry_text"], *prac["view"]],
            api_name="retry",
        )

        def picked(sid: str | None, request: gr.Request) -> list[Any]:
            if not sid:
                return [gr.update() for _ in rev["outputs"]]
            return rev["show_report"](sid, request)

        rev["pick"].input(picked, [rev["pick"]], rev["outputs"], api_visibility="private")
    return demo


def main() -> int:
    from simulator.accounts import ensure_admin, first_start_message
    from simulator.errors import DataFileError
    from simulator.library import personas

    try:
        services = Services.create()
        personas()  # a broken persona file stops the start with its name and field
    except DataFileError as e:
        print(f"起動できません / cannot start: {e.message}", file=sys.stderr)
        return 2
    password = ensure_admin(services.store)
    if password:
        print(first_start_message(password), flush=True)
    host = os.environ.get("KASUHARA_HOST", "127.0.0.1")
    port = int(os.environ.get("KASUHARA_PORT", "7860"))
    demo = create_ui(services)
    demo.queue(default_concurrency_limit=8)
    print(
        f"起動します / serving on http://{host}:{port}  (voice={services.engine.voice_mode}, judge={services.engine.judge_mode})",
        flush=True,
    )
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        auth=services.authenticate,
        auth_message=S.AUTH_MESSAGE,
        show_error=True,
        css=CSS,
        footer_links=[],
        quiet=True,
    )
    return 0
