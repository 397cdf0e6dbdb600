"""The Gradio app: ``create_ui(services)`` builds the Blocks; ``main()`` serves them.

Sign-in is Gradio's own auth, checked against the store's argon2 hashes; every handler
reads the signed-in user on the server (``gr.Request.username``), so calling the API
directly gives a trainee no more than the page does.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402  (the environment above must be set before import)

from simulator.app.permissions import Capability  # noqa: E402
from simulator.app.services import MAX_REPLY_CHARS, Services  # noqa: E402
from simulator.ui import history, practice, review, staff, studio  # noqa: E402
from simulator.ui import strings as S  # noqa: E402
from simulator.ui.common import current_user  # noqa: E402

CSS = """
#app-header h1 {margin-bottom: 0}
a.kr-download {display: block; text-align: center; padding: 10px 12px; border-radius: 8px; font-weight: 600;
  border: 1px solid var(--button-secondary-border-color); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); text-decoration: none}
#download-html-box, #download-md-box {padding: 0 !important}
a.kr-download:hover {background: var(--button-secondary-background-fill-hover)}
.cards {flex-wrap: wrap; gap: 12px}
.scenario-card {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 12px;
  background: var(--background-fill-secondary)}
.scenario-card h4 {margin: 0 0 4px 0}
.notice-box {background: #fff7e0; border-left: 4px solid #f0a500; padding: 6px 10px; border-radius: 4px; color: #5a3d00}
.notice-box ul {margin: 2px 0 0 1em}
#status {font-weight: 600}
.chips {display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 8px; margin: 4px 0}
@media (max-width: 900px) {.chips {grid-template-columns: repeat(auto-fill, minmax(160px, 1fr))}}
.chip {border-radius: 8px; padding: 6px 10px; font-size: 0.9em; overflow-wrap: anywhere;
  border: 1px solid #ccc; background: #f6f6f6; color: #222}
.chip details.more {font-size: 0.8em; color: #555; margin-top: 2px}
.chip details.more summary {cursor: pointer; color: #2a5db0}
/* the chat's own 「clear」 would blank the view while the session goes on */
#chat .icon-button-wrapper.top-panel {display: none}
#reply-count {font-size: 0.85em; color: #666; text-align: right; margin-top: 2px}
#reply-count.near {color: #a15c00; font-weight: 600}
#reply-count.over {color: #b00020; font-weight: 700}
.chip.s3, .chip.s2 {background: #e7f6ec; border-color: #6cbf84}
.chip.s1 {background: #f3f3f3}
.chip.s0 {background: #fde8e8; border-color: #e07070}
.chip.na {background: #eee; border-style: dashed}
.chip .why {font-size: 0.85em; color: #444; margin-top: 2px}
.kr-table {overflow: auto; border: 1px solid #ddd; border-radius: 6px}
.kr-table table {border-collapse: collapse; width: 100%; font-size: 0.9em}
.kr-table th {position: sticky; top: 0; background: #f4f4f4; text-align: left}
.kr-table th, .kr-table td {padding: 4px 8px; border-bottom: 1px solid #eee}
.kr-table td.num {text-align: right}
.drill-result li.ok {color: #1d6b35}
.drill-result li.ng {color: #a12020}
@media print {
  body * {visibility: hidden}
  #report, #report * {visibility: visible}
  #report {position: absolute; left: 0; top: 0; width: 100%}
}
"""


# Enter sends, Shift+Enter is a newline, and nothing is sent while an IME is composing (the
# Enter that confirms a kana-kanji conversion). A counter under the box shows the length
# against the limit. Listeners sit on the document in the capture phase, before Gradio's own.
PAGE_JS = """
() => {
  const LIMIT = %(limit)d;
  const box = () => document.querySelector('#reply textarea');
  document.addEventListener('compositionstart', (e) => {
    if (e.target === box()) e.target.dataset.composing = '1';
  }, true);
  document.addEventListener('compositionend', (e) => {
    if (e.target === box()) setTimeout(() => { delete e.target.dataset.composing; }, 0);
  }, true);
  const onKey = (e) => {
    if (e.target !== box() || e.key !== 'Enter') return;
    const composing = e.isComposing || e.keyCode === 229 || e.target.dataset.composing === '1';
    if (composing) { e.stopImmediatePropagation(); return; }
    if (e.shiftKey) { e.stopImmediatePropagation(); return; }  // newline, no submit
    e.preventDefault();
    e.stopImmediatePropagation();
    if (e.type === 'keydown') {
      const send = document.querySelector('#send');
      if (send && !send.disabled) send.click();
    }
  };
  document.addEventListener('keydown', onKey, true);
  document.addEventListener('keypress', onKey, true);
  const count = () => {
    const b = box();
    if (!b) return;
    let c = document.querySelector('#reply-count');
    if (!c) {
      c = document.createElement('div');
      c.id = 'reply-count';
      c.setAttribute('aria-live', 'polite');
      b.closest('#reply').appendChild(c);
    }
    const n = [...b.value].length;
    const text = %(fmt)s;
    const cls = n > LIMIT ? 'over' : (n > LIMIT * 0.9 ? 'near' : '');
    // only touch the DOM on a change: the observer below would otherwise wake itself forever
    if (c.textContent !== text) c.textContent = text;
    if (c.className !== cls) c.className = cls;
  };
  document.addEventListener('input', (e) => { if (e.target === box()) count(); }, true);
  // Gradio titles its toasts with the type in English (「Warning」): say it in Japanese
  const TITLES = %(titles)s;
  const localize = () => {
    document.querySelectorAll('.toast-title').forEach((t) => {
      const span = t.querySelector('span') || t;
      for (const node of span.childNodes) {
        if (node.nodeType === 3 && TITLES[node.textContent.trim()]) node.textContent = TITLES[node.textContent.trim()];
      }
    });
    document.querySelectorAll('[data-testid="toast-close"][aria-label="Close"]').forEach(
      (b) => b.setAttribute('aria-label', '閉じる'));
  };
  // the box is re-rendered (cleared after a send, a new session): keep the counter in step
  new MutationObserver(() => {
    if (box() && !document.querySelector('#reply-count')) count();
    localize();
  }).observe(document.body, {childList: true, subtree: true});
  setInterval(count, 500);
}
"""


def page_js() -> str:
    fmt = "`" + S.CHAR_COUNT.replace("{n}", "${n}").replace("{limit}", "${LIMIT}") + "`"
    titles = json.dumps(
        {"Warning": S.WARNING_TITLE, "Error": S.ERROR_TITLE, "Info": S.INFO_TITLE}, ensure_ascii=False
    )
    return PAGE_JS % {"limit": MAX_REPLY_CHARS, "fmt": fmt, "titles": titles}


def create_ui(services: Services) -> gr.Blocks:
    with gr.Blocks(title=S.APP_TITLE, analytics_enabled=False) as demo:
        with gr.Row(elem_id="app-header"):
            gr.Markdown(f"# {S.APP_TITLE}\n{S.APP_SUBTITLE}")
            who = gr.Markdown(elem_id="who")
        session_id = gr.State(None)
        # the dashboard's filters, kept in this browser so a view can be reopened
        dash_saved = gr.BrowserState({}, storage_key="kasuhara-dashboard-filters")
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab(S.TAB_PRACTICE, id="practice", elem_id="tab-practice"):
                prac = practice.build(services, tabs, session_id)
            with gr.Tab(S.TAB_REPORT, id="report", elem_id="tab-report"):
                rev = review.build(services, session_id)
            with gr.Tab(S.TAB_HISTORY, id="history", elem_id="tab-history"):
                hist = history.build(services)
                who_viewed = gr.Markdown(elem_id="who-viewed")
            # staff pages: hidden until the signed-in user's capabilities show them (and every
            # handler behind them checks the capability again on the server)
            with gr.Tab(S.TAB_STUDIO, id="studio", elem_id="tab-studio", visible=False) as tab_studio:
                stud = studio.build(services)
            with gr.Tab(S.TAB_REVIEW, id="review", elem_id="tab-review", visible=False) as tab_review:
                revw = staff.build_review(services)
            with gr.Tab(S.TAB_ASSIGN, id="assign", elem_id="tab-assign", visible=False) as tab_assign:
                asg = staff.build_assign(services)
            with gr.Tab(S.TAB_DASHBOARD, id="dashboard", elem_id="tab-dashboard", visible=False) as tab_dash:
                dash = staff.build_dashboard(services, dash_saved)
            with gr.Tab(S.TAB_AUDIT, id="audit", elem_id="tab-audit", visible=False) as tab_audit:
                aud = staff.build_audit(services)
            with gr.Tab(S.TAB_USERS, id="users", elem_id="tab-users", visible=False) as tab_users:
                usr = staff.build_users(services)

        def on_load(request: gr.Request) -> list[Any]:
            user = current_user(services, request)
            caps = services.capabilities(user)
            resumable = services.resumable(user)
            return [
                S.SIGNED_IN_AS.format(
                    name=user.display_name, role=user.role_label, department=user.department or "—"
                )
                + f"　[{S.SIGN_OUT}](/logout)",
                gr.update(visible=resumable is not None),
                gr.update(choices=prac["persona_choices"](user), value=None),
                staff.assigned_md(services, user),
                gr.update(choices=review.session_choices(services, user)),
                *hist["load"](request),
                staff.who_viewed_md(services, user),
                gr.update(visible=Capability.edit_personas in caps),
                gr.update(visible=Capability.review_transcripts in caps),
                gr.update(visible=Capability.read_audit_log in caps),
                gr.update(visible=Capability.assign in caps),
                gr.update(visible=Capability.manage_users in caps),
                *(stud["load"](request) if Capability.edit_personas in caps else [gr.skip()] * 4),
                *(revw["load"](request) if Capability.review_transcripts in caps else [gr.skip(), gr.skip()]),
                *(aud["load"](request) if Capability.read_audit_log in caps else [gr.skip()]),
                *(asg["load"](request) if Capability.assign in caps else [gr.skip(), gr.skip()]),
                *(usr["load"](request) if Capability.manage_users in caps else [gr.skip()]),
            ]

        def dash_visible(request: gr.Request) -> Any:
            user = current_user(services, request)
            return gr.update(visible=Capability.view_dashboards in services.capabilities(user))

        demo.load(dash_visible, None, [tab_dash], api_visibility="private")
        demo.load(dash["restore"], dash["inputs"], dash["outputs"], api_visibility="private")
        demo.load(
            on_load,
            None,
            [who, prac["resume"], prac["any_pick"], prac["assigned"], rev["pick"], *hist["outputs"], who_viewed,
             tab_studio, tab_review, tab_audit, tab_assign, tab_users, *stud["outputs"], *revw["outputs"], *aud["outputs"],
             *asg["outputs"], *usr["outputs"]],
            api_visibility="private",
        )  # fmt: skip

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


def protect_data_dir() -> None:
    """Files the app writes (the SQLite database, exports) are readable by its own user only."""
    import os

    from simulator.paths import data_dir

    os.umask(0o077)
    d = data_dir()
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    for f in d.glob("*.sqlite3*"):
        os.chmod(f, 0o600)


def quiet_queue(demo: gr.Blocks) -> None:
    """Gradio's queue summarises its last 10,000 events with pandas after every event, for the
    monitoring page, which this app keeps closed: a few ms a turn on the one busy thread, growing
    with every event. It keeps no history and no summary here."""
    q = demo._queue
    q.ANALYTICS_MAX_EVENTS = 1
    q.compute_analytics_summary = lambda records: q.cached_event_analytics_summary  # type: ignore[method-assign]


def settle_memory() -> None:
    """After start-up: what is loaded for good (Gradio, the judge's model, the personas, the
    built page) leaves the garbage collector's view, and young objects are collected less often.
    Before, a full collection scanned it all, stopping every turn for about 200 ms every 10-20 s
    under load (BENCHMARKS.md, "Where a turn's time goes")."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def main() -> int:
    from simulator.accounts import ensure_admin, first_start_message
    from simulator.app.signin import install as install_signin
    from simulator.config import ConfigError, load_settings
    from simulator.errors import DataFileError
    from simulator.library import personas
    from simulator.scoring import learned
    from simulator.store.migrate import DatabaseAhead, DatabaseBehind
    from simulator.ui.exports import install as install_exports

    learned.defer_indexing()  # until the first page can be served
    try:
        settings = load_settings()
        services = Services.create()
        personas()  # a broken persona file stops the start with its name and field
    except DataFileError as e:
        print(f"起動できません / cannot start: {e.message}", file=sys.stderr)
        return 2
    except (ConfigError, DatabaseBehind, DatabaseAhead) as e:
        print(f"起動できません / cannot start: {e}", file=sys.stderr)
        return 2
    password = ensure_admin(services.store)
    if password:
        print(first_start_message(password), flush=True)
    host, port = settings.host, settings.port
    demo = create_ui(services)
    demo.queue(default_concurrency_limit=8)  # 2, 4 and 8 measured: 8 gave the most turns/s (BENCHMARKS.md)
    quiet_queue(demo)
    print(
        f"起動します / serving on http://{host}:{port}  (voice={services.engine.voice_mode}, judge={services.engine.judge_mode})",
        flush=True,
    )
    from starlette.middleware import Middleware

    from simulator.app.guard import MAX_UPLOAD_BYTES, Guard

    protect_data_dir()
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        auth=services.authenticate_async,  # type: ignore[arg-type]  # Gradio awaits a coroutine function
        auth_message=S.AUTH_MESSAGE,
        # a failure shows its Japanese gr.Error message; anything unexpected shows no internals
        show_error=False,
        enable_monitoring=False,
        strict_cors=True,
        max_file_size=MAX_UPLOAD_BYTES,
        # every request passes the guard first: sign-in, page ownership, closed routes, headers
        app_kwargs={"middleware": [Middleware(Guard, services=services)]},
        css=CSS,
        js=page_js(),
        footer_links=[],
        quiet=True,
        prevent_thread_lock=True,
    )
    # sign-in verified from the database, so that every instance accepts it (app.signin)
    install_signin(demo.server_app, services.store)
    install_exports(demo.server_app, services)  # the report files, made when asked for
    learned.start_indexing(wait=30)  # the page is served meanwhile; the index is loaded for good
    settle_memory()
    demo.block_thread()
    return 0
