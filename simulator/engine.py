"""One practice session, turn by turn: judge -> director -> voice, the same for CLI and app.

The director always reads the offline judge's assessment (hybrid or rules: fast), so the persona
can answer at once; an LLM judge, when configured, runs concurrently with the voice and
its assessment is recorded beside the offline one. Any LLM failure falls back for that turn
and leaves a notice on the turn; the session goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from simulator import director
from simulator.library import get_persona, get_rubric
from simulator.models import (
    Assessment,
    ContextLine,
    Outcome,
    Persona,
    Rubric,
    Session,
    Turn,
)
from simulator.scoring import Judge, default_judge, rule_judge
from simulator.scoring.version import VersionedJudge
from simulator.voices.base import Voice, VoiceLine, VoiceRequest
from simulator.voices.scripted import ScriptedVoice, opening_line

JUDGE_FALLBACK_NOTICE = (
    "AI採点が利用できなかったため、このターンはオフライン採点（ルール＋学習モデル）のみで評価しました"
)
VOICE_MODES = ("scripted", "llm")
JUDGE_MODES = ("hybrid", "rules", "llm", "both")


def _load_settings() -> Any:
    from simulator.config import load_settings

    return load_settings()


class Engine:
    """Runs sessions. Holds no per-session state: a session object (loaded from the store
    or built fresh) carries everything, so any instance can continue any session."""

    def __init__(
        self,
        *,
        voice: str | None = None,
        judge: str | None = None,
        settings: Any = None,
        rubric: Rubric | None = None,
        max_turns: int = director.MAX_TURNS,
        voice_impl: Voice | None = None,
        llm_judge: Judge | None = None,
    ) -> None:
        self.settings = settings if settings is not None else _load_settings()
        self.voice_mode: str = voice or str(getattr(self.settings, "voice", "scripted"))
        self.judge_mode: str = judge or str(getattr(self.settings, "judge", "hybrid"))
        if self.voice_mode not in VOICE_MODES:
            raise ValueError(f"voice は {VOICE_MODES} のいずれか / voice must be one of {VOICE_MODES}")
        if self.judge_mode not in JUDGE_MODES:
            raise ValueError(f"judge は {JUDGE_MODES} のいずれか / judge must be one of {JUDGE_MODES}")
        self.rubric = rubric or get_rubric()
        self.max_turns = max_turns
        # the offline judge: scores every turn, and stands in when the LLM judge fails
        self.rules: Judge = rule_judge() if self.judge_mode == "rules" else default_judge()
        self.scripted = ScriptedVoice()
        self.voice: Voice = voice_impl or self._make_voice()
        self.llm_judge: Judge | None = llm_judge
        if self.llm_judge is None and self.judge_mode in ("llm", "both"):
            from simulator.llm.judge import LLMJudge

            self.llm_judge = LLMJudge(self.settings)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="turn")

    @property
    def judge_id(self) -> str:
        """What scores this engine's sessions: the offline judge's id, with the LLM's if any."""
        # the engine's own rubric, which need not be the shipped default
        offline = (
            self.rules.id_for(self.rubric) if isinstance(self.rules, VersionedJudge) else self.rules.name
        )
        if self.llm_judge is not None:
            return (
                f"{self.llm_judge.name}+{offline}"
                if self.judge_mode == "llm"
                else f"{offline}+{self.llm_judge.name}"
            )
        return offline

    def _make_voice(self) -> Voice:
        if self.voice_mode == "llm":
            from simulator.llm.voice import FallbackVoice, LLMVoice

            # The HTTP timeout bounds each read; the deadline bounds the whole line.
            return FallbackVoice(LLMVoice(self.settings), self.scripted, deadline=self.settings.timeout * 2)
        return self.scripted

    # ------------------------------------------------------------------ sessions

    def start(
        self,
        persona: Persona | str,
        *,
        seed: int = 0,
        user_id: str = "local",
        session_id: str | None = None,
    ) -> Session:
        p = get_persona(persona) if isinstance(persona, str) else persona
        return Session(
            id=session_id or uuid.uuid4().hex,
            user_id=user_id,
            persona_id=p.id,
            persona_version=p.version,
            rubric_id=self.rubric.id,
            rubric_version=self.rubric.version,
            scenario=p.scenario,
            seed=seed,
            voice=self.voice_mode,
            judge=self.judge_id,
            opening=opening_line(p, seed),
            state=director.initial_state(p),
        )

    def take_turn(self, session: Session, reply: str, persona: Persona | None = None) -> Turn:
        """Score the reply, move the director, let the persona answer; append the turn."""
        return drain(self.stream_turn(session, reply, persona))

    def stream_turn(
        self, session: Session, reply: str, persona: Persona | None = None
    ) -> Generator[str, None, Turn]:
        """Like :meth:`take_turn`, yielding the client's line in chunks as it is spoken;
        the generator's return value is the turn (appended to ``session``)."""
        if session.outcome is not Outcome.in_progress:
            raise ValueError("このセッションは終了しています / the session has ended")
        p = persona or get_persona(session.persona_id)
        context = session.context()
        rules_a = self.rules.assess(reply, context, session.scenario, self.rubric)
        st = director.step(
            p,
            session.state,
            rules_a,
            reply,
            max_turns=self.max_turns,
            time_limit_minutes=self.rubric.time_limit_minutes(session.scenario),
        )

        # The LLM judge (if any) works while the voice speaks: never one after the other.
        llm_future: Future[Assessment] | None = None
        if self.llm_judge is not None:
            llm_future = self._pool.submit(
                self.llm_judge.assess, reply, context, session.scenario, self.rubric
            )

        said = frozenset(
            [session.opening]
            + [t.client_after or "" for t in session.turns]
            + [t.closing or "" for t in session.turns]
        )
        req = VoiceRequest(
            persona=p,
            state=st.state,
            reaction=st.reaction,
            transcript=[*context, ContextLine(role="trainee", text=reply)],
            note=st.note,
            seed=session.seed,
            said=said,
        )
        stream = self.voice.stream(req)
        chunks: list[str] = []
        for chunk in stream:
            chunks.append(chunk)
            yield chunk
        line: VoiceLine = getattr(stream, "line", None) or VoiceLine("".join(chunks), self.voice.name)
        notices = list(line.notices)
        for fact in line.sets:  # what the client's line established (persona facts)
            if fact not in st.state.facts:
                st.state.facts.append(fact)

        assessments = [rules_a]
        review = False
        if llm_future is not None:
            try:
                llm_a = llm_future.result()
            except Exception as e:  # LLMUnavailable or anything else: the turn goes on with rules
                notices.append(f"{JUDGE_FALLBACK_NOTICE}（{_short(e)}）")
                rules_a.notes.append("llm_judge_unavailable")
            else:
                assessments = [llm_a, rules_a] if self.judge_mode == "llm" else [rules_a, llm_a]
                review = llm_a.concession != rules_a.concession

        # a score the learned model is unsure of goes to a trainer's review too
        review = review or any(
            cs.confidence is not None and cs.confidence < LOW_CONFIDENCE for cs in rules_a.scores.values()
        )
        ended = st.state.outcome is not Outcome.in_progress
        turn = Turn(
            index=len(session.turns) + 1,
            client_before=session.last_client_line,
            trainee=reply,
            assessments=assessments,
            state=st.state,
            client_after=None if ended else line.text,
            closing=line.text if ended else None,
            voice=line.voice,
            notices=notices,
            review_flag=review,
        )
        session.turns.append(turn)
        session.state = st.state
        if ended:
            session.ended_at = datetime.now(UTC)
        return turn

    def end(self, session: Session) -> None:
        """The trainee ends the session early."""
        if session.outcome is Outcome.in_progress:
            session.state = director.end_by_trainee(session.state)
            session.ended_at = datetime.now(UTC)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


T = TypeVar("T")


# the hybrid judge's confidence below which a turn is flagged for a trainer's review
LOW_CONFIDENCE = 0.6


def drain(gen: Generator[Any, None, T], each: Callable[[Any], object] | None = None) -> T:
    """Run a generator to its end (``each`` is given what it yields) and return its return value."""
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if each is not None:
            each(item)


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 80 else text[:77] + "..."
