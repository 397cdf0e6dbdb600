"""The 練習 tab: scenario cards, the chat with the persona, live hints, the end button."""

from __future__ import annotations

import html
import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any

import gradio as gr
from sqlalchemy.exc import OperationalError

from simulator.app.permissions import AccessDenied
from simulator.app.services import MAX_REPLY_CHARS, ReplyInputError, Services, TurnBusy
from simulator.director import PHONE_TIME_LIMIT_MINUTES
from simulator.engine import drain
from simulator.library import get_rubric
from simulator.models import (
    CRITERIA,
    CRITERION_LABELS,
    SCENARIO_LABELS,
    Assessment,
    Outcome,
    ScenarioId,
    Session,
    Turn,
    outcome_label,
)
from simulator.store import NotFound
from simulator.ui import strings as S
from simulator.ui.common import current_user, fail, warn


def _limit(session: Any) -> float:
    """The scene's time limit from the rubric's scenario check (the manual's 20 minutes)."""
    return get_rubric().time_limit_minutes(session.scenario) or PHONE_TIME_LIMIT_MINUTES


def ja(text: str) -> str:
    """The Japanese half of a bilingual message (「…判定できません / no Japanese to judge」)."""
    head, sep, tail = text.partition(" / ")
    return head if sep and tail.isascii() else text


def shown(text: str) -> str:
    """Text as typed: markup in a reply (「<script>」, 「**」) is shown, never interpreted."""
    return html.escape(text, quote=False)


def chat_messages(session: Session) -> list[dict[str, str]]:
    msgs = [{"role": "assistant", "content": shown(session.opening)}]
    for t in session.turns:
        msgs.append({"role": "user", "content": shown(t.trainee)})
        line = t.client_after or t.closing
        if line:
            msgs.append({"role": "assistant", "content": shown(line)})
    return msgs


def status_text(session: Session, persona_minutes: float, channel: str | None = None) -> str:
    if session.ended_at:
        parts = [S.TURNS_DONE.format(n=len(session.turns))]
    else:
        parts = [S.TURN_STATUS.format(turn=len(session.turns) + 1)]
    if persona_minutes:
        parts.append(S.CLOCK_STATUS.format(minutes=session.state.elapsed_minutes, limit=_limit(session)))
        if session.state.elapsed_minutes >= _limit(session):
            parts.append(S.CLOCK_OVER)
    if session.outcome is not Outcome.in_progress:
        parts.append(S.ENDED_STATUS.format(outcome=outcome_label(session.outcome, channel)))
    return " ｜ ".join(parts)


def hints_html(a: Assessment | None, *, gentle: bool) -> str:
    """The five criteria as chips with a one-line reason; gentle mode shows words, not numbers."""
    if a is None:
        return ""
    chips = []
    for cid in CRITERIA:
        cs = a.scores.get(cid)
        score = cs.score if cs else None
        words = (S.SCORE_WORDS_GENTLE if gentle else S.SCORE_WORDS)[score]
        shown = words if gentle or score is None else f"{score} {words}"
        main, more = split_reason(ja(cs.reason) if cs else "")
        extra = (
            f'<details class="more"><summary>{S.REASON_MORE}</summary>{html.escape(more)}</details>'
            if more
            else ""
        )
        cls = "na" if score is None else f"s{score}"
        chips.append(
            f'<div class="chip {cls}" data-criterion="{cid.value}">'
            f'<b>{CRITERION_LABELS[cid]}</b> <span class="val">{html.escape(shown)}</span>'
            f'<div class="why">{html.escape(main)}</div>{extra}</div>'
        )
    return f'<div class="chips">{"".join(chips)}</div>'


_MORE_AT = ("。似た判定例", "。ルールの読み")


def split_reason(reason: str) -> tuple[str, str]:
    """The reason whole: what decided the score first, the model's examples and the rules'
    reading (hybrid judge) folded under 「詳しく」. Nothing is cut."""
    cut = min((i for i in (reason.find(m) for m in _MORE_AT) if i >= 0), default=-1)
    if cut < 0:
        return reason, ""
    return reason[: cut + 1], reason[cut + 1 :]


def notice_text(turn: Turn | None) -> str:
    if turn is None or not turn.notices:
        return ""
    items = "".join(f"<li>{html.escape(ja(n))}</li>" for n in turn.notices)
    return f'<div class="notice-box" role="status"><b>{S.FALLBACK_TITLE}</b><ul>{items}</ul></div>'


def header_text(services: Services, session: Session) -> str:
    p = services.persona_of(session)
    return (
        f"### {p.short_title}（{p.difficulty_label}・{p.channel}）\n"
        f"**相手**: {p.client.company} {p.client.role} {p.client.name}　**あなた**: {p.trainee_role}\n\n"
        f"**場面**: {p.setting}\n\n"
        f"> 手引書 {p.manual_passage.section}: 「{p.manual_passage.quote}」"
    )


class TurnRun:
    """A streamed turn (``Services.reply_stream``) run to its end in a thread of its own; the
    handler takes the client's line from it as it comes, and the stored result at the end."""

    def __init__(self, stream: Generator[str, None, tuple[Session, Turn]]) -> None:
        self._stream = stream
        self._pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._result: tuple[Session, Turn] | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="turn-stream", daemon=True).start()

    def _run(self) -> None:
        try:
            self._result = drain(self._stream, self._pieces.put)
        except BaseException as e:  # noqa: BLE001 - handed to the handler, which shows it
            self._error = e
        finally:
            self._pieces.put(None)

    def pieces(self) -> Iterator[str]:
        """What was spoken since the last call, joined (one update for pieces that came
        together), until the line is complete. What came with the end is not given here: the
        stored turn, shown next, holds it (one update fewer when a line arrives at once)."""
        while True:
            got = [self._pieces.get()]
            while not self._pieces.empty():
                got.append(self._pieces.get())
            if None in got:
                return
            yield "".join(got)  # type: ignore[arg-type]  # None is not among them

    def result(self) -> tuple[Session, Turn]:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def build(services: Services, tabs: gr.Tabs, session_id: gr.State) -> dict[str, Any]:
    """Lay out the tab; returns the components other tabs wire to."""
    ps = services.personas()
    with gr.Column(elem_id="picker") as picker:
        gr.Markdown(S.PICKER_TITLE)
        gr.Markdown(S.PICKER_HELP)
        resume_btn = gr.Button(S.RESUME, visible=False, elem_id="resume", variant="primary")
        assigned = gr.Markdown(elem_id="assigned")
        start_buttons: list[tuple[gr.Button, str]] = []
        with gr.Row(elem_classes="cards"):
            for scenario in ScenarioId:
                group = sorted(
                    (p for p in ps.values() if p.scenario is scenario),
                    key=lambda p: p.difficulty.value != "standard",
                )
                if not group:
                    continue
                with gr.Column(elem_classes="scenario-card", min_width=300):
                    first = group[0]
                    lines = [
                        f"#### {SCENARIO_LABELS[scenario]}",
                        f"<small>手引書 {first.manual_passage.section}</small>",
                    ]
                    for p in group:
                        lines.append(
                            f"- **{p.difficulty_label}**・{p.channel}：{p.short_title}"
                            f"（{p.client.industry} {p.client.role}）"
                        )
                    gr.Markdown("\n".join(lines))
                    with gr.Row():
                        for p in group:
                            btn = gr.Button(
                                S.START_STANDARD if p.difficulty.value == "standard" else S.START_HARD,
                                elem_id=f"start-{p.id}",
                                size="sm",
                                variant="primary" if p.difficulty.value == "standard" else "secondary",
                            )
                            start_buttons.append((btn, p.id))
        # every published persona, including those trainers published after the app started
        with gr.Row(elem_id="persona-any"):
            any_pick = gr.Dropdown(label=S.PICK_ANY, choices=[], elem_id="persona-pick", scale=4)
            any_start = gr.Button(S.START_PICKED, elem_id="persona-start", scale=1)

    with gr.Column(visible=False, elem_id="practice") as practice:
        header = gr.Markdown(elem_id="session-header")
        status = gr.Markdown(elem_id="status")
        notice = gr.HTML(elem_id="notice")
        chat = gr.Chatbot(label=S.CHAT_LABEL, elem_id="chat", height=420, buttons=[], render_markdown=False)
        hints = gr.HTML(elem_id="hints")
        with gr.Row():
            reply = gr.Textbox(
                label=S.INPUT_LABEL,
                placeholder=S.INPUT_PLACEHOLDER,
                lines=2,
                max_lines=6,
                scale=5,
                elem_id="reply",
            )
            send = gr.Button(S.SEND, variant="primary", scale=1, elem_id="send")
        with gr.Row():
            hints_on = gr.Checkbox(value=True, label=S.HINTS, elem_id="hints-toggle")
            gentle = gr.Checkbox(value=False, label=S.LOW_ANXIETY, elem_id="gentle-toggle")
            end_btn = gr.Button(S.END, variant="stop", size="sm", elem_id="end")
        with gr.Row(visible=False, elem_id="end-confirm") as end_confirm:
            gr.Markdown(S.END_CONFIRM)
            end_yes = gr.Button(S.END_YES, variant="stop", size="sm", elem_id="end-yes")
            end_no = gr.Button(S.END_NO, size="sm", elem_id="end-no")
        with gr.Row(visible=False, elem_id="ended-row") as ended_row:
            to_report = gr.Button("報告書を見る", variant="primary", elem_id="to-report")
            back = gr.Button(S.BACK_TO_PICKER, elem_id="back")

    view = [
        picker,
        practice,
        header,
        status,
        notice,
        chat,
        hints,
        ended_row,
        reply,
        session_id,
        send,
        end_btn,
    ]

    def unchanged(out: list[Any]) -> list[Any]:
        """A turn's update: the picker, the practice column, the header and the session id stay
        as they are, so they are not sent again."""
        for i in (0, 1, 2, 9):
            out[i] = gr.skip()
        return out

    def render(session: Session, turn: Turn | None, show_hints: bool, is_gentle: bool) -> list[Any]:
        ended = session.outcome is not Outcome.in_progress
        p = services.persona_of(session)
        return [
            gr.update(visible=False),
            gr.update(visible=True),
            header_text(services, session),
            status_text(session, p.minutes_per_turn, p.channel),
            notice_text(turn),
            chat_messages(session),
            hints_html(turn.assessment, gentle=is_gentle) if (turn and show_hints) else "",
            gr.update(visible=ended),
            gr.update(value="", interactive=not ended),
            session.id,
            gr.update(interactive=not ended),
            gr.update(visible=not ended),
        ]

    def start(persona_id: str, request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        session = services.start(user, persona_id)
        return render(session, None, False, False)

    def starter(pid: str) -> Any:
        def _start(request: gr.Request) -> list[Any]:
            return start(pid, request)

        return _start

    for btn, pid in start_buttons:
        btn.click(
            starter(pid),
            inputs=None,
            outputs=view,
            api_name=f"start_{pid}",
        )

    def start_picked(pid: str | None, request: gr.Request) -> list[Any]:
        if not pid:
            fail(S.PICK_ANY_FIRST)
        try:
            return start(pid, request)  # type: ignore[arg-type]
        except KeyError:
            fail(S.PICK_ANY_GONE)

    any_start.click(start_picked, [any_pick], view, api_name="start")

    def persona_choices(user: Any = None) -> list[tuple[str, str]]:
        """Every published persona; the user's assigned ones first, with their due dates."""
        due: dict[str, Any] = {}
        if user is not None:
            for a in services.my_assignments(user):
                if a["status"] != "done":
                    due.setdefault(a["persona_id"], a["due"])
        ps = sorted(
            services.personas().values(),
            key=lambda p: (p.id not in due, p.scenario.value, p.difficulty.value, p.id),
        )
        return [
            ((f"【割り当て・期限 {due[p.id]:%m/%d}】" if p.id in due else "")
             + f"{p.scenario_label}・{p.difficulty_label}・{p.channel}：{p.short_title}", p.id)
            for p in ps
        ]  # fmt: skip

    def resume(request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        sid = services.resumable(user)
        if sid is None:
            fail(S.NO_SESSION)
        session = services.load(user, sid)  # type: ignore[arg-type]
        last = session.turns[-1] if session.turns else None
        return render(session, last, False, False)

    resume_btn.click(resume, None, view, api_name="resume")

    live = services.engine.voice_mode == "llm"  # an LLM speaks its line as it comes: streamed

    def on_send(
        text: str, sid: str | None, show_hints: bool, is_gentle: bool, request: gr.Request
    ) -> Iterator[list[Any]]:
        user = current_user(services, request)
        if not sid:
            fail(S.NO_SESSION)
        if not text or not text.strip():
            warn(S.EMPTY_REPLY)
            yield [gr.skip() for _ in view]
            return
        if len(text) > MAX_REPLY_CHARS:
            # Refuse rather than cut: the text stays in the box for the trainee to shorten.
            warn(S.REPLY_TOO_LONG.format(limit=MAX_REPLY_CHARS))
            yield [gr.skip() for _ in view]
            return
        try:
            session = services.load(user, sid)  # type: ignore[arg-type]
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        if session.outcome is not Outcome.in_progress:
            fail(S.SESSION_ENDED)
        # the session read here is the one answered: it is not read again
        stream = services.reply_stream(user, sid, text, session=session)  # type: ignore[arg-type]
        try:
            if live:
                # An LLM's line takes a while. The turn runs in its own thread from now (the
                # model is asked at once, not after the first update is on its way); the page
                # shows the trainee's words, then the line as it is spoken, as many pieces as
                # arrived since the last update at a time. The turn is stored whole even if the
                # page goes away meanwhile.
                turn_run = TurnRun(stream)
                base = chat_messages(session) + [{"role": "user", "content": shown(text)}]
                out = unchanged(render(session, None, False, is_gentle))
                out[5] = base + [{"role": "assistant", "content": "…"}]
                out[8] = gr.update(value="", interactive=False)
                yield out
                spoken = ""
                for piece in turn_run.pieces():
                    spoken += piece
                    partial = [gr.skip()] * len(view)
                    partial[5] = base + [{"role": "assistant", "content": shown(spoken)}]
                    yield partial
                session, turn = turn_run.result()
            else:
                session, turn = drain(stream)
        except AccessDenied:
            fail(S.ACCESS_DENIED)
        except (TurnBusy, ReplyInputError, OperationalError) as e:
            # nothing was stored: the page shows the session as stored, the text back in the box
            warn(
                e.message
                if isinstance(e, TurnBusy)
                else S.STORE_BUSY
                if isinstance(e, OperationalError)
                else str(e)
            )
            kept = render(services.load(user, sid), None, show_hints, is_gentle)  # type: ignore[arg-type]
            kept[8] = gr.update(value=text, interactive=True)
            yield kept
            return
        # the turn as stored: one update, without what a turn does not change
        out = unchanged(render(session, turn, show_hints, is_gentle))
        if session.outcome is Outcome.in_progress:
            # mid-scene the buttons and the ended row stay as they are; the box is emptied (a
            # plain value: Gradio builds a whole component to apply each gr.update)
            out[7] = out[10] = out[11] = gr.skip()
            out[8] = gr.update(value="", interactive=True) if live else ""
        yield out

    def on_send_once(
        text: str, sid: str | None, show_hints: bool, is_gentle: bool, request: gr.Request
    ) -> list[Any]:
        """The scripted voice's turn: its line is known at once, so the turn is one call with
        one answer (a generator costs Gradio a second call and a second message)."""
        out: list[Any] = [gr.skip() for _ in view]
        for out in on_send(text, sid, show_hints, is_gentle, request):  # noqa: B007 - the last is the answer
            pass
        return out

    send_inputs = [reply, session_id, hints_on, gentle]
    # Enter sends through this button (the page script: IME composition never sends, Shift+Enter
    # is a newline), so the text box itself has no submit of its own.
    send.click(on_send if live else on_send_once, send_inputs, view, api_name="send")

    def on_end(sid: str | None, request: gr.Request) -> list[Any]:
        user = current_user(services, request)
        if not sid:
            fail(S.NO_SESSION)
        try:
            session = services.end(user, sid)  # type: ignore[arg-type]
        except (AccessDenied, NotFound):
            fail(S.ACCESS_DENIED)
        return render(session, None, False, False)

    def ask_end() -> list[Any]:
        return [gr.update(visible=True), gr.update(visible=False)]

    def keep_going() -> list[Any]:
        return [gr.update(visible=False), gr.update(visible=True)]

    # ending early asks first: the scene is recorded unresolved
    end_btn.click(ask_end, None, [end_confirm, end_btn], api_visibility="private")
    end_no.click(keep_going, None, [end_confirm, end_btn], api_visibility="private")
    end_yes.click(on_end, [session_id], view, api_name="end").then(
        lambda: gr.update(visible=False), None, end_confirm, api_visibility="private"
    )

    def on_back() -> list[Any]:
        return [gr.update(visible=True), gr.update(visible=False)]

    back.click(on_back, None, [picker, practice], api_visibility="private")

    return {
        "picker": picker,
        "practice": practice,
        "resume": resume_btn,
        "any_pick": any_pick,
        "assigned": assigned,
        "persona_choices": persona_choices,
        "to_report": to_report,
        "view": view,
        "render": render,
    }
