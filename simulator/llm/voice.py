"""The LLM persona voice, and the wrapper that keeps a session going when the LLM fails.

``LLMVoice`` is the raw adapter: it prompts the chat model and returns what it says.
``FallbackVoice`` is what the app should use: it cleans and checks every line (see
:mod:`simulator.llm.guard`) and, when the model fails or breaks character, speaks the
fallback voice's line for the same request with a notice saying why.

Streaming policy: ``FallbackVoice.stream`` releases the model's output one sentence at a
time, each only after the guard has passed the whole text so far. Nothing unchecked ever
reaches the trainee. If the model fails or breaks character before the first sentence,
the fallback line is streamed instead; if it does so later, the line ends at the last
checked sentence (a released chunk cannot be taken back). ``FallbackVoice.stream`` returns
a :class:`LineStream`, whose ``line`` after exhaustion says which voice spoke and why.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from simulator.config import Settings
from simulator.errors import LLMUnavailable
from simulator.llm.client import describe_error, make_chat_model
from simulator.llm.guard import check_persona_line, clean_persona_line
from simulator.models import REACTION_LABELS, ContextLine, Outcome, outcome_label
from simulator.prompts import fence, render
from simulator.voices.base import LineStream, Voice, VoiceLine, VoiceRequest

log = logging.getLogger(__name__)

PROMPT = "persona_system.j2"
MAX_HISTORY = 24  # transcript lines sent; a scene is at most a dozen turns
SCENE_START = "（場面開始）"

# A sentence ends at 。！？!?… (with any closing brackets after it).
_SENTENCE_END = re.compile(r"[。！？!?…]+[」』）)]*")

Guard = Callable[[str, VoiceRequest], str | None]


def persona_guard(text: str, req: VoiceRequest) -> str | None:
    return check_persona_line(text, req.persona, req.note)


# what the client does with each trainee move (the director's choice, in words for the model)
MOVE_TASKS: dict[str, str] = {
    "question": "受講者は要求の中身を尋ねた。はぐらかさず、自分の要求を具体的に（何を・いつまでに・いくらで）言う。",
    "contract": "受講者は契約・方針を根拠に示した。それを軽んじたりねじ曲げたりしつつ、要求を押し通そうとする。",
    "recording": "受講者は記録・録音・書面化を告げた。それに反応する（動揺・反発）が、要求は取り下げない。",
    "time_limit": "受講者は対応時間の区切りを告げた。まだ話は終わっていないと食い下がる。",
    "escalation": "受講者は上長・窓口・会社としての対応を持ち出した。受講者が名前を出した相手についてだけ反応する。",
    "apology": "受講者は謝罪した。謝罪を弱みとして突き、態度は和らげない。",
    "estimate": "受講者は有償の見積もり・別契約を示した。金を払う気はないと押し返す。",
    "legal": "受講者は警察・弁護士・法的対応に触れた。それに反応する（ひるみつつも強がる）。",
    "leave": "受講者は退席・終了を告げた。引き留めようとする。",
}


def _examples(req: VoiceRequest) -> list[str]:
    """A few authored lines that fit this moment (their conditions hold), as a register sample."""
    from simulator import dialogue
    from simulator.voices.scripted import candidate_pools

    now = dialogue.facts(req.persona, req.state)
    out: list[str] = []
    for pool in candidate_pools(req):
        out += [ln.text for ln in pool if dialogue.holds(ln, now) and ln.text not in out]
        if len(out) >= 3:
            break
    return out[: 2 if req.closing else 3]


def persona_system_prompt(req: VoiceRequest) -> str:
    from simulator import dialogue

    p = req.persona
    index = min(req.state.stage, len(p.tactic_ladder) - 1)
    outcome = req.state.outcome if req.closing else Outcome.in_progress
    return render(
        PROMPT,
        persona=p,
        state=req.state,
        stage=p.tactic_ladder[index],
        stage_number=index + 1,
        stage_count=len(p.tactic_ladder),
        note=req.note,
        reaction_label=REACTION_LABELS[req.reaction],
        closing=req.closing,
        outcome_label=outcome_label(outcome, p.channel),
        examples=_examples(req),
        dialogue=dialogue.summary_ja(p, req.state),
        move_task=MOVE_TASKS.get(req.state.move or "", "") if not req.closing else "",
        granted_all=bool(req.state.demands_granted) and not req.state.refused_turns,
    )


def persona_messages(req: VoiceRequest) -> list[BaseMessage]:
    """System prompt, then the transcript with the client as the assistant and the
    trainee as the (fenced) user; same-role neighbours are merged, since many local chat
    templates insist on strict alternation starting with the user."""
    lines: list[ContextLine] = req.transcript[-MAX_HISTORY:]
    turns: list[tuple[str, str]] = []
    if not lines or lines[0].role == "client":
        turns.append(("trainee", SCENE_START))
    for line in lines:
        text = line.text if line.role == "client" else fence(line.text, "trainee_line")
        if turns and turns[-1][0] == line.role:
            turns[-1] = (line.role, turns[-1][1] + "\n" + text)
        else:
            turns.append((line.role, text))
    messages: list[BaseMessage] = [SystemMessage(persona_system_prompt(req))]
    for role, text in turns:
        messages.append(AIMessage(text) if role == "client" else HumanMessage(text))
    return messages


class LLMVoice:
    """The client's line from a chat model. Unchecked: wrap it in :class:`FallbackVoice`.

    Every failure is raised as :class:`LLMUnavailable` with a short Japanese reason.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        temperature: float = 0.8,
        max_tokens: int = 256,
    ) -> None:
        model = model or settings.persona_model
        if not model:
            raise LLMUnavailable("相手役のモデルが設定されていません")
        self.model = model
        self.name = f"llm:{model}"
        self._chat = make_chat_model(settings, model, temperature=temperature, max_tokens=max_tokens)

    def speak(self, req: VoiceRequest) -> VoiceLine:
        try:
            message = self._chat.invoke(persona_messages(req))
        except Exception as e:
            raise LLMUnavailable(describe_error(e)) from e
        return VoiceLine(message.text.strip(), self.name)

    def stream(self, req: VoiceRequest) -> Iterator[str]:
        try:
            for chunk in self._chat.stream(persona_messages(req)):
                if chunk.text:
                    yield chunk.text
        except Exception as e:
            raise LLMUnavailable(describe_error(e)) from e


def failed_notice(reason: str) -> str:
    return f"AIの応答が得られなかったため、オフラインの台本音声に切り替えました（理由: {reason}）"


def rejected_notice(reason: str) -> str:
    return f"AIの応答が役柄から外れていたため、オフラインの台本音声に切り替えました（理由: {reason}）"


def cut_notice(reason: str) -> str:
    return f"AIの応答が途中で使えなくなったため、そこまでで打ち切りました（理由: {reason}）"


class FallbackVoice:
    """``primary``'s line, cleaned and checked; ``fallback``'s line when that fails.

    ``name`` is the primary's; each returned line names the voice that actually spoke.
    ``deadline`` bounds a whole streamed line in seconds (the HTTP timeout bounds each read).
    """

    def __init__(
        self,
        primary: Voice,
        fallback: Voice,
        *,
        guard: Guard = persona_guard,
        deadline: float | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.guard = guard
        self.deadline = deadline
        self.name = primary.name

    def _fallback(self, req: VoiceRequest, notice: str) -> VoiceLine:
        log.warning("persona voice %s fell back: %s", self.primary.name, notice)
        line = self.fallback.speak(req)
        return VoiceLine(line.text, line.voice, [*line.notices, notice], sets=list(line.sets))

    def speak(self, req: VoiceRequest) -> VoiceLine:
        try:
            line = self.primary.speak(req)
        except Exception as e:
            return self._fallback(req, failed_notice(describe_error(e)))
        text = clean_persona_line(line.text, req.persona)
        reason = self.guard(text, req)
        if reason:
            return self._fallback(req, rejected_notice(reason))
        return VoiceLine(text, line.voice, list(line.notices))

    def stream(self, req: VoiceRequest) -> LineStream:
        return LineStream(self._stream(req))

    def _stream(self, req: VoiceRequest) -> Generator[str, None, VoiceLine]:
        released = ""
        with closing(self._checked(req)) as pieces:
            try:
                for piece in pieces:
                    yield piece
                    released += piece
            except _Rejected as r:
                notice, problem = rejected_notice(r.reason), r.reason
            except Exception as e:
                notice, problem = failed_notice(describe_error(e)), describe_error(e)
            else:
                return VoiceLine(released, self.primary.name)
        if not released:
            line = self._fallback(req, notice)
            yield line.text
            return line
        # What was shown cannot be taken back: the line ends at the last checked sentence.
        log.warning("persona voice %s cut short: %s", self.primary.name, problem)
        return VoiceLine(released, self.primary.name, [cut_notice(problem)])

    def _checked(self, req: VoiceRequest) -> Generator[str, None, None]:
        """The primary's cleaned text, a whole number of sentences at a time, each piece
        released only once the guard passes everything up to its end."""
        start = time.monotonic()
        raw = ""
        released = 0
        chunks = self.primary.stream(req)
        try:
            for chunk in chunks:
                raw += chunk
                text = clean_persona_line(raw, req.persona, final=False)
                ends = [m.end() for m in _SENTENCE_END.finditer(text, released)]
                if ends and ends[-1] > released:
                    yield self._pass(text[: ends[-1]], released, req)
                    released = ends[-1]
                if self.deadline is not None and time.monotonic() - start > self.deadline:
                    raise LLMUnavailable("応答が時間内に終わりませんでした")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # ends the HTTP stream early when the line is cut or abandoned
        text = clean_persona_line(raw, req.persona)
        if len(text) > released or not text:
            yield self._pass(text, released, req)

    def _pass(self, text: str, released: int, req: VoiceRequest) -> str:
        """``text`` past ``released``, if the guard passes the whole of ``text``."""
        reason = self.guard(text, req)
        if reason:
            raise _Rejected(reason)
        return text[released:]


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def build_voice(settings: Settings, fallback: Voice) -> Voice:
    """The voice the settings ask for: the guarded LLM voice, or ``fallback`` alone."""
    if settings.voice != "llm":
        return fallback
    return FallbackVoice(LLMVoice(settings), fallback, deadline=settings.timeout * 2)
