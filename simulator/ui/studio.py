"""ペルソナスタジオ (研修担当): write a persona in a form and as YAML side by side, see every
problem as you type, test-drive it in a side chat with the director's state visible, save it
as a new version, publish it, compare versions, and export or import it.

Every handler goes through the application layer, which checks ``edit_personas`` on the
server: the tab is only shown to those who have it, and its API refuses everyone else.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr
import yaml

from simulator.app.permissions import Capability
from simulator.app.services import Services
from simulator.errors import DataFileError
from simulator.library import load_yaml_text, manual_passages
from simulator.models import CRITERION_LABELS, CriterionId, Persona, Session, outcome_label
from simulator.ui import strings as S
from simulator.ui.common import fail, staff_user

# the form's fields: (key path in the YAML, label, lines)
FORM = [
    (("id",), "ID（英小文字・数字・_。新しいIDで保存すると新しいペルソナ）", 1),
    (("title",), "題名", 1),
    (("client", "company"), "相手の会社", 1),
    (("client", "role"), "相手の役職", 1),
    (("client", "name"), "相手の氏名", 1),
    (("setting",), "場面（場所・時刻・経緯）", 3),
    (("background",), "相手の背景", 4),
    (("opening_lines",), "最初の一言（1行に1つ）", 3),
]
DIFFICULTIES = [("標準", "standard"), ("強硬", "hard")]
CHANNELS = ["対面", "電話", "オンライン会議", "メール・SNS"]


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = data
    for k in path:
        cur = cur.get(k) if isinstance(cur, dict) else None
    return cur


def form_values(text: str) -> list[Any]:
    """The form's values read from the YAML (unchanged fields when it cannot be read)."""
    try:
        data = load_yaml_text(text) or {}
    except yaml.YAMLError:
        return [gr.skip() for _ in range(len(FORM) + 2)]
    if not isinstance(data, dict):
        return [gr.skip() for _ in range(len(FORM) + 2)]
    out: list[Any] = []
    for path, _label, _lines in FORM:
        v = _get(data, path)
        out.append("\n".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v)))
    out.append(data.get("difficulty") or "standard")
    out.append(data.get("channel") or "対面")
    return out


def apply_form(text: str, values: list[Any]) -> str:
    """The YAML with the form's values written in (other fields kept as they are)."""
    try:
        data = load_yaml_text(text) or {}
    except yaml.YAMLError:
        return text
    if not isinstance(data, dict):
        return text
    for (path, _label, _lines), value in zip(FORM, values[: len(FORM)], strict=True):
        cur = data
        for k in path[:-1]:
            cur = cur.setdefault(k, {})
        if path[-1] == "opening_lines":
            cur[path[-1]] = [ln.strip() for ln in str(value).splitlines() if ln.strip()]
        else:
            cur[path[-1]] = value
    data["difficulty"], data["channel"] = values[len(FORM)], values[len(FORM) + 1]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def problems_md(problems: list[tuple[str, str]]) -> str:
    if not problems:
        return f"✓ {S.STUDIO_OK}"
    rows = "\n".join(f"- **{html.escape(f or '（全体）')}**: {html.escape(m)}" for f, m in problems)
    return f"⚠ {S.STUDIO_PROBLEMS.format(n=len(problems))}\n{rows}"


def drive_state_md(persona: Persona, session: Session) -> str:
    """What the director holds after the last turn, and the judge's scores of each reply."""
    from simulator import dialogue

    st = session.state
    facts = sorted(dialogue.facts(persona, st))
    lines = [
        f"**圧力** {st.pressure}/4　**段階** {st.stage + 1}/{len(persona.tactic_ladder)}　"
        f"**状態** {outcome_label(session.outcome, persona.channel)}",
        "",
        "**事実**: " + ("、".join(facts) if facts else "—"),
        "",
    ]
    lines += [f"- {x}" for x in dialogue.summary_ja(persona, st)]
    lines += ["", "**返答ごとの採点**（0 違反・1 見られない・2 一部・3 明確）", ""]
    for t in session.turns:
        a = t.assessment
        if a is not None:
            scores = "・".join(
                f"{CRITERION_LABELS[CriterionId(k)]} {'—' if v is None else v}"
                for k, v in a.score_map().items()
            )
            lines.append(f"- ターン{t.index}: {scores}")
    return "\n".join(lines)


def _chat(session: Session) -> list[dict[str, str]]:
    out = [{"role": "assistant", "content": session.opening}]
    for t in session.turns:
        out.append({"role": "user", "content": t.trainee})
        line = t.client_after or t.closing
        if line:
            out.append({"role": "assistant", "content": line})
    return out


def build(services: Services) -> dict[str, Any]:
    with gr.Row():
        pick = gr.Dropdown(label=S.STUDIO_PICK, choices=[], elem_id="studio-pick", scale=3)
        version = gr.Dropdown(label=S.STUDIO_VERSION, choices=[], elem_id="studio-version", scale=2)
        open_btn = gr.Button(S.STUDIO_OPEN, elem_id="studio-open", scale=1)
    versions_md = gr.Markdown(elem_id="studio-versions")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            gr.Markdown(S.STUDIO_FORM)
            form: list[Any] = [
                gr.Textbox(label=label, lines=lines, elem_id=f"studio-f-{'-'.join(path)}")
                for path, label, lines in FORM
            ]
            difficulty = gr.Dropdown(
                label="難易度", choices=DIFFICULTIES, value="standard", elem_id="studio-difficulty"
            )
            channel = gr.Dropdown(
                label="対応の方法", choices=CHANNELS, value="対面", elem_id="studio-channel"
            )
            form += [difficulty, channel]
            passages = manual_passages()
            passage = gr.Dropdown(
                label=S.STUDIO_PASSAGE, choices=[(f"{h}｜{q}", i) for i, (h, q) in enumerate(passages)],
                elem_id="studio-passage",
            )  # fmt: skip
            passage_text = gr.Markdown(elem_id="studio-passage-text")
        with gr.Column(scale=3):
            gr.Markdown(S.STUDIO_YAML)
            code = gr.Code(language="yaml", lines=28, max_lines=40, elem_id="studio-yaml", label="YAML")
            problems = gr.Markdown(elem_id="studio-problems")
    with gr.Row():
        note = gr.Textbox(label=S.STUDIO_NOTE, scale=4, elem_id="studio-note")
        save = gr.Button(S.STUDIO_SAVE, variant="primary", scale=1, elem_id="studio-save")
        publish = gr.Button(S.STUDIO_PUBLISH, scale=1, elem_id="studio-publish")
        unpublish = gr.Button(S.STUDIO_UNPUBLISH, scale=1, elem_id="studio-unpublish")
    saved = gr.Markdown(elem_id="studio-saved")
    with gr.Accordion(S.STUDIO_DRIVE, open=True, elem_id="studio-drive-box"), gr.Row(equal_height=False):
        with gr.Column(scale=3):
            drive_chat = gr.Chatbot(label=S.STUDIO_DRIVE_CHAT, height=320, elem_id="studio-chat", buttons=[])
            with gr.Row():
                drive_text = gr.Textbox(label=S.INPUT_LABEL, lines=2, scale=5, elem_id="studio-reply")
                drive_send = gr.Button(S.SEND, scale=1, elem_id="studio-send")
            with gr.Row():
                drive_start = gr.Button(S.STUDIO_DRIVE_START, elem_id="studio-drive-start")
                rewind_turn = gr.Dropdown(label=S.STUDIO_REWIND, choices=[], elem_id="studio-rewind-turn")
                rewind = gr.Button(S.STUDIO_REWIND_GO, elem_id="studio-rewind")
        with gr.Column(scale=2):
            drive_state = gr.Markdown(elem_id="studio-state")
    with gr.Accordion(S.STUDIO_MORE, open=False, elem_id="studio-more"):
        with gr.Row():
            diff_a = gr.Dropdown(label=S.STUDIO_DIFF_A, choices=[], elem_id="studio-diff-a")
            diff_b = gr.Dropdown(label=S.STUDIO_DIFF_B, choices=[], elem_id="studio-diff-b")
            diff_btn = gr.Button(S.STUDIO_DIFF, elem_id="studio-diff")
        diff_out = gr.Code(language=None, label=S.STUDIO_DIFF, elem_id="studio-diff-out", lines=10)
        links = gr.HTML(elem_id="studio-export")
        upload = gr.File(
            label=S.STUDIO_IMPORT, file_types=[".yaml", ".yml", ".json"], elem_id="studio-import"
        )
    with gr.Accordion(S.WEIGHTS_TITLE, open=False, elem_id="weights-box"):
        gr.Markdown(S.WEIGHTS_HELP)
        weights_code = gr.Code(language="yaml", lines=10, elem_id="weights-yaml", label=S.WEIGHTS_TITLE)
        weights_problems = gr.Markdown(elem_id="weights-problems")
        weights_versions = gr.Markdown(elem_id="weights-versions")
        with gr.Row():
            weights_note = gr.Textbox(label=S.STUDIO_NOTE, scale=3, elem_id="weights-note")
            weights_save = gr.Button(S.WEIGHTS_SAVE, scale=1, elem_id="weights-save")
            weights_pick = gr.Dropdown(label=S.STUDIO_VERSION, choices=[], scale=1, elem_id="weights-version")
            weights_publish = gr.Button(S.WEIGHTS_PUBLISH, scale=1, elem_id="weights-publish")
    drive = gr.State(None)  # (persona, session) of the test drive: never stored

    def pick_passage(text: str, i: int | None, request: gr.Request) -> list[Any]:
        """The manual's sentence, shown in full and written into the YAML's manual_passage."""
        user = staff_user(services, request, Capability.edit_personas)
        if i is None:
            return [gr.skip(), gr.skip(), gr.skip()]
        heading, quote = passages[int(i)]
        try:
            data = load_yaml_text(text or "") or {}
        except yaml.YAMLError:
            fail(S.STUDIO_PASSAGE_YAML)
        if not isinstance(data, dict):
            fail(S.STUDIO_PASSAGE_YAML)
        data["manual_passage"] = {"section": heading, "quote": quote}
        new = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
        shown = f"> 手引書「{html.escape(heading)}」: 「{html.escape(quote)}」"
        return [new, problems_md(services.check_persona_text(user, new)), shown]

    def _weights_view(user: Any) -> list[Any]:
        text, versions = services.weights_text(user)
        md = (
            "\n".join(
                f"- v{v['version']}{'（使用中）' if v['published'] else ''}: {html.escape(v['note'] or '')}"
                for v in versions
            )
            or S.WEIGHTS_FILE_ONLY
        )
        return [
            text,
            md,
            gr.update(choices=[(f"v{v['version']}", v["version"]) for v in versions], value=None),
        ]

    def weights_edited(text: str, request: gr.Request) -> str:
        user = staff_user(services, request, Capability.edit_personas)
        return problems_md(services.check_weights(user, text or "")[1])

    weights_code.input(weights_edited, [weights_code], [weights_problems], api_name="weights_check",
                       trigger_mode="always_last")  # fmt: skip

    def do_weights_save(text: str, memo: str, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        try:
            v = services.save_weights(user, text or "", memo or "")
        except DataFileError as e:
            fail(S.STUDIO_SAVE_FAILED.format(field=e.field or "—", problem=e.problem_ja))
        view = _weights_view(user)
        return [S.WEIGHTS_SAVED.format(version=v), view[1], view[2]]

    weights_save.click(do_weights_save, [weights_code, weights_note], [weights_problems, weights_versions, weights_pick],
                       api_name="weights_save")  # fmt: skip

    def do_weights_publish(v: int | None, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        if not v:
            fail(S.STUDIO_PICK_FIRST)
        services.publish_weights(user, int(v))  # type: ignore[arg-type]
        return [S.WEIGHTS_PUBLISHED.format(version=v), *_weights_view(user)[1:]]

    weights_publish.click(do_weights_publish, [weights_pick], [weights_problems, weights_versions, weights_pick],
                          api_name="weights_publish")  # fmt: skip

    def _versions(user: Any, pid: str | None) -> list[tuple[str, int]]:
        rows = services.persona_versions(user, pid) if pid else []
        return [
            (f"v{r['version']}{'（公開中）' if r['published'] else ''}・{r['source']}", r["version"])
            for r in rows
        ]

    def _versions_md(user: Any, pid: str | None) -> str:
        rows = services.persona_versions(user, pid) if pid else []
        if not rows:
            return ""
        body = "\n".join(
            f"| v{r['version']} | {'公開中' if r['published'] else '非公開'} | {r['source']} | "
            f"{html.escape(r['note'] or '')} |"
            for r in rows
        )
        return f"| 版 | 状態 | 出どころ | メモ |\n| --- | --- | --- | --- |\n{body}"

    def _export_links(pid: str, v: int) -> str:
        from simulator.ui.exports import persona_url

        a = html.escape(persona_url(pid, v, "yaml"), quote=True)
        b = html.escape(persona_url(pid, v, "card"), quote=True)
        return (
            f'<a id="studio-export-yaml" class="kr-download" href="{a}" download>{S.STUDIO_EXPORT_YAML}</a> '
            f'<a id="studio-export-card" class="kr-download" href="{b}" download>{S.STUDIO_EXPORT_CARD}</a>'
        )

    def load(request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        ids = [p["persona_id"] for p in services.studio_personas(user)]
        return [gr.update(choices=ids, value=None), *_weights_view(user)]

    def pick_persona(pid: str | None, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        vs = _versions(user, pid)
        latest = vs[-1][1] if vs else None
        return [gr.update(choices=vs, value=latest), gr.update(choices=vs), gr.update(choices=vs)]

    def open_version(pid: str | None, v: int | None, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        if not pid or not v:
            fail(S.STUDIO_PICK_FIRST)
        text = services.persona_text(user, pid, int(v))  # type: ignore[arg-type]
        return [text, problems_md(services.check_persona_text(user, text)), *form_values(text),
                _versions_md(user, pid), _export_links(pid, int(v))]  # type: ignore[arg-type]  # fmt: skip

    pick.change(pick_persona, [pick], [version, diff_a, diff_b], api_name="studio_pick")
    passage.input(pick_passage, [code, passage], [code, problems, passage_text], api_visibility="private")
    open_btn.click(
        open_version, [pick, version], [code, problems, *form, versions_md, links], api_name="studio_open"
    )

    def yaml_edited(text: str, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        return [problems_md(services.check_persona_text(user, text)), *form_values(text)]

    code.input(yaml_edited, [code], [problems, *form], api_name="studio_check", trigger_mode="always_last")

    def form_edited(
        text: str, f0: Any, f1: Any, f2: Any, f3: Any, f4: Any, f5: Any, f6: Any, f7: Any, f8: Any, f9: Any,
        request: gr.Request,
    ) -> list[Any]:  # fmt: skip
        # one parameter per form field: Gradio passes inputs positionally, not to *args
        user = staff_user(services, request, Capability.edit_personas)
        new = apply_form(text or "", [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9])
        return [new, problems_md(services.check_persona_text(user, new))]

    assert len(form) == 10, "form_edited takes one parameter per form field"

    for f in form:
        # when the trainer leaves a field (typing in it would rewrite the YAML at every key)
        f.blur(
            form_edited, [code, *form], [code, problems], api_visibility="private", trigger_mode="always_last"
        )

    def do_save(text: str, memo: str, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        try:
            p = services.save_persona(user, text, note=memo or "")
        except DataFileError as e:
            fail(S.STUDIO_SAVE_FAILED.format(field=e.field or "—", problem=e.problem_ja))
        vs = _versions(user, p.id)
        ids = [x["persona_id"] for x in services.studio_personas(user)]
        return [
            S.STUDIO_SAVED.format(id=p.id, version=p.version),
            gr.update(choices=ids, value=p.id),
            gr.update(choices=vs, value=p.version),
            services.persona_text(user, p.id, p.version),
            _versions_md(user, p.id),
            _export_links(p.id, p.version),
        ]

    save.click(
        do_save, [code, note], [saved, pick, version, code, versions_md, links], api_name="studio_save"
    )

    def set_published(flag: bool) -> Any:
        def handler(pid: str | None, v: int | None, request: gr.Request) -> list[Any]:
            user = staff_user(services, request, Capability.edit_personas)
            if not pid or not v:
                fail(S.STUDIO_PICK_FIRST)
            services.publish_persona(user, pid, int(v), flag)  # type: ignore[arg-type]
            msg = S.STUDIO_PUBLISHED if flag else S.STUDIO_UNPUBLISHED
            return [msg.format(id=pid, version=v), gr.update(choices=_versions(user, pid), value=v),
                    _versions_md(user, pid)]  # fmt: skip

        return handler

    publish.click(
        set_published(True), [pick, version], [saved, version, versions_md], api_name="studio_publish"
    )
    unpublish.click(
        set_published(False), [pick, version], [saved, version, versions_md], api_name="studio_unpublish"
    )

    def do_diff(pid: str | None, a: int | None, b: int | None, request: gr.Request) -> str:
        user = staff_user(services, request, Capability.edit_personas)
        if not pid or not a or not b:
            fail(S.STUDIO_PICK_FIRST)
        return services.persona_diff(user, pid, int(a), int(b)) or S.STUDIO_NO_DIFF  # type: ignore[arg-type]

    diff_btn.click(do_diff, [pick, diff_a, diff_b], [diff_out], api_name="studio_diff")

    def do_import(file: Any, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        if file is None:
            return [gr.skip() for _ in range(5)]
        path = getattr(file, "name", file)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            p = services.import_persona(user, text, source=str(path).rsplit("/", 1)[-1])
        except UnicodeDecodeError:
            fail(S.STUDIO_IMPORT_NOT_TEXT)
        except DataFileError as e:
            fail(S.STUDIO_SAVE_FAILED.format(field=e.field or "—", problem=e.problem_ja))
        ids = [x["persona_id"] for x in services.studio_personas(user)]
        return [
            S.STUDIO_IMPORTED.format(id=p.id, version=p.version),
            gr.update(choices=ids, value=p.id),
            gr.update(choices=_versions(user, p.id), value=p.version),
            services.persona_text(user, p.id, p.version),
            _versions_md(user, p.id),
        ]

    upload.upload(do_import, [upload], [saved, pick, version, code, versions_md], api_name="studio_import")

    # ---------------------------------------------------------------- test drive

    def drive_view(state: Any) -> list[Any]:
        persona, session = state
        turns = [(f"ターン{t.index}: {t.trainee[:24]}", t.index) for t in session.turns]
        return [
            state,
            _chat(session),
            drive_state_md(persona, session),
            gr.update(choices=turns, value=None),
            "",
        ]

    drive_out = [drive, drive_chat, drive_state, rewind_turn, drive_text]

    def start_drive(text: str, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        try:
            state = services.test_drive_start(user, text or "")
        except DataFileError as e:
            fail(S.STUDIO_SAVE_FAILED.format(field=e.field or "—", problem=e.problem_ja))
        return drive_view(state)

    drive_start.click(start_drive, [code], drive_out, api_name="studio_drive_start")

    def send_drive(state: Any, reply: str, request: gr.Request) -> list[Any]:
        user = staff_user(services, request, Capability.edit_personas)
        if state is None:
            fail(S.STUDIO_DRIVE_FIRST)
        if not reply or not reply.strip():
            fail(S.EMPTY_REPLY)
        persona, session = state
        try:
            services.test_drive_turn(user, persona, session, reply)
        except ValueError:
            fail(S.SESSION_ENDED)
        return drive_view((persona, session))

    drive_send.click(send_drive, [drive, drive_text], drive_out, api_name="studio_drive_send")

    def do_rewind(state: Any, turn: int | None, request: gr.Request) -> list[Any]:
        staff_user(services, request, Capability.edit_personas)
        if state is None or not turn:
            fail(S.STUDIO_DRIVE_FIRST)
        persona, session = state
        return drive_view((persona, services.test_drive_rewind(session, persona, int(turn))))  # type: ignore[arg-type]

    rewind.click(do_rewind, [drive, rewind_turn], drive_out, api_name="studio_drive_rewind")

    return {"load": load, "outputs": [pick, weights_code, weights_versions, weights_pick]}
