"""The director: a deterministic state machine that decides what the persona does next.

It reads only the turn's assessment (and, to tell which kind of ending an escalation
asks for, the reply text), never the voice. The rules that keep a persona hard:

- a concession invites a bigger demand (味を占める); pressure never drops because the
  trainee gave in or grovelled, and a scene in which the trainee conceded never ends
  ``resolved``;
- calm firmness pushes the persona up its tactic ladder; after sustained firmness at the
  top of the ladder the persona backs down (``resolved``) or, when hot, walks out;
- a hostile reply inflames it (pressure +1; at full pressure the client leaves); a panicked
  or pleading one (calm lost without retaliation) makes it press harder (pressure +1);
- a correct escalation, an enforced time limit or leaving for safety ends the scene.
  "Correct" means said without conceding or retaliating, after the trainee has held firm
  (hard personas need two firm turns before they accept a hand-off); leaving for safety
  is always correct where there is a physical or sexual threat.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from simulator.models import (
    Assessment,
    CriterionId,
    Difficulty,
    DirectorState,
    Outcome,
    Persona,
    Reaction,
    ScenarioId,
)

MAX_TURNS = 12
# the default when no rubric is given; the engine passes the rubric's time_management limit
PHONE_TIME_LIMIT_MINUTES = 20.0

# Which kind of ending an escalation asks for comes from the judge's typed findings (the
# escalation evidence's kind: handover, legal, time_limit, leave), not from another word list.
_SAFETY_KINDS = frozenset({"leave", "legal"})
_HANDOFF_KINDS = frozenset({"handover", "legal"})
_TIME_KINDS = frozenset({"time_limit", "leave"})

SAFETY_SCENARIOS = (ScenarioId.sexual_harassment,)
TIME_SCENARIOS = (ScenarioId.phone_harassment, ScenarioId.prolonged_detention)


@dataclass(frozen=True)
class Step:
    """The result of one transition."""

    state: DirectorState
    reaction: Reaction
    note: str


def initial_state(persona: Persona) -> DirectorState:
    return DirectorState(
        pressure=2 if persona.difficulty is Difficulty.hard else 1,
        stage=0,
        turn=0,
        demands_made=[persona.demands[0].id],
    )


def classify(assessment: Assessment | None) -> Reaction:
    """How the reply reads to the client. Concession outranks everything: it is the
    failure the simulator exists to expose."""
    if assessment is None:
        return Reaction.neutral
    firm = assessment.score(CriterionId.firm)
    esc = assessment.score(CriterionId.escalation)
    if assessment.concession or firm == 0:
        return Reaction.conceded
    if assessment.hostile:
        return Reaction.hostile
    # calm 0 without retaliation is panic or pleading: the client presses on (see ``step``)
    if esc is not None and esc >= 2:
        return Reaction.escalated
    if firm is not None and firm >= 2:
        return Reaction.held_firm
    return Reaction.neutral


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def escalation_kinds(assessment: Assessment | None) -> frozenset[str]:
    """What kind of escalation the judge found in the reply (its evidence's signals)."""
    if assessment is None:
        return frozenset()
    cs = assessment.scores.get(CriterionId.escalation)
    return frozenset(e.signal for e in cs.evidence) if cs is not None else frozenset()


def ending_for_escalation(persona: Persona, assessment: Assessment | None) -> Outcome:
    """Which ending an escalating reply asks for, from the judge's findings."""
    kinds = escalation_kinds(assessment)
    if (persona.scenario in SAFETY_SCENARIOS or persona.physical_risk) and kinds & _SAFETY_KINDS:
        return Outcome.safe_exit
    if kinds & _HANDOFF_KINDS:
        return Outcome.escalated
    if kinds & _TIME_KINDS:
        return Outcome.ended_by_trainee
    return Outcome.escalated


def _firm_needed(persona: Persona) -> int:
    return 2 if persona.difficulty is Difficulty.hard else 1


def _next_demand(persona: Persona, state: DirectorState) -> str | None:
    for d in persona.demands:
        if d.id not in state.demands_made:
            return d.id
    return None


def _demand_text(persona: Persona, demand_id: str) -> str:
    for d in persona.demands:
        if d.id == demand_id:
            return d.text
    return demand_id


def step(
    persona: Persona,
    state: DirectorState,
    assessment: Assessment | None,
    reply: str,
    *,
    max_turns: int = MAX_TURNS,
    time_limit_minutes: float | None = None,
) -> Step:
    """One transition. Pure: the same inputs always give the same result.
    ``time_limit_minutes`` is the rubric's limit for the scene (None: the manual's 20 minutes)."""
    limit = PHONE_TIME_LIMIT_MINUTES if time_limit_minutes is None else time_limit_minutes
    if state.outcome is not Outcome.in_progress:
        return Step(state, Reaction.neutral, "場面は終了しています。")
    s = state.model_copy(deep=True)
    s.turn += 1
    s.elapsed_minutes += persona.minutes_per_turn
    last = len(persona.tactic_ladder) - 1
    reaction = classify(assessment)
    s.reaction = reaction
    firm = assessment.score(CriterionId.firm) if assessment else None
    current = s.demands_made[-1] if s.demands_made else persona.demands[0].id
    note: str

    if reaction is Reaction.conceded:
        s.firm_streak = 0
        if current not in s.demands_granted:
            s.demands_granted.append(current)
        s.pressure = min(4, s.pressure + 1)
        s.stage = min(last, s.stage + 1)
        bigger = _next_demand(persona, s)
        if bigger:
            s.demands_made.append(bigger)
            note = (
                "受講者は譲歩した。態度を軟化させず、味を占めてさらに要求を広げる。"
                f"次の要求: {_demand_text(persona, bigger)}"
            )
        else:
            note = "受講者は譲歩した。態度を軟化させず、味を占めて要求を上乗せし、条件を厳しくする。"
    elif reaction is Reaction.hostile:
        s.firm_streak = 0
        if s.pressure >= 4 and s.turn >= 2:
            s.outcome = Outcome.client_left
            s.ending_reason = "感情的な応酬で相手が席を立った（関係悪化）"
            note = "受講者の反発に激高し、席を立つ／電話を切る。"
        else:
            s.pressure = min(4, s.pressure + 1)
            s.stage = min(last, s.stage + 1)
            note = "受講者の言い方に激高する。口調を荒げ、言葉尻をとらえて責める。"
    elif reaction is Reaction.escalated:
        streak = s.firm_streak + (1 if firm is not None and firm >= 2 else 0)
        s.firm_streak = streak
        ending = ending_for_escalation(persona, assessment)
        if ending is Outcome.safe_exit:
            s.outcome = Outcome.safe_exit
            s.ending_reason = "受講者がその場を離れ、安全を確保した"
            note = "受講者が退席する。引き留めようとするが、場面は終わる。"
        elif (
            ending is Outcome.ended_by_trainee
            and persona.scenario is ScenarioId.phone_harassment
            and (s.elapsed_minutes >= limit or streak >= _firm_needed(persona))
        ):
            s.outcome = Outcome.ended_by_trainee
            s.ending_reason = "対応時間の上限（20分ルール）に基づき通話を終えた"
            note = "受講者が通話を終える。捨て台詞を言う。"
        elif streak >= _firm_needed(persona):
            s.outcome = ending
            s.ending_reason = (
                "上長・相談窓口・会社間の交渉へ引き継いだ"
                if ending is Outcome.escalated
                else "予定時刻・方針に基づき対応を終えた"
            )
            note = "受講者が毅然と引き継ぎ／終了を告げる。場面を締めくくる一言を言う。"
        else:
            s.stage = min(last, s.stage + 1)
            note = "受講者が上長・記録・時間制限を持ち出した。動揺を見せつつも、逃げるなと圧力を強める。"
    elif reaction is Reaction.held_firm:
        s.firm_streak += 1
        if s.stage >= last and s.firm_streak >= 2:
            if s.demands_granted:
                # What was conceded stays conceded: the client leaves with it, not "resolved".
                s.outcome = Outcome.client_left
                s.ending_reason = "後半は毅然と対応したが、先に譲歩した要求は相手に取られたまま"
            elif s.pressure >= 4 and persona.difficulty is Difficulty.hard:
                s.outcome = Outcome.client_left
                s.ending_reason = "毅然とした対応に、相手が要求を通せず席を立った"
            else:
                s.outcome = Outcome.resolved
                s.ending_reason = "毅然とした対応が続き、相手が要求を取り下げた"
                s.pressure = max(0, s.pressure - 2)
            note = "受講者の毅然とした態度に、要求を取り下げて引き下がる。"
        else:
            s.stage = min(last, s.stage + 1)
            if s.stage >= last:
                note = "受講者は毅然としている。強がりつつも引き際を探し、上の者を出せ等と言い始める。"
            else:
                note = "受講者は毅然と断った。次の手（戦術の段階）に進み、圧力を強める。"
    else:
        s.firm_streak = 0
        if assessment is not None and assessment.score(CriterionId.calm) == 0:
            # a shaken trainee invites the client to press harder, never to let up
            s.pressure = min(4, s.pressure + 1)
            note = "受講者は動揺している。弱みにつけ込み、同じ要求を強い調子で畳みかける。"
        else:
            note = "受講者は断りも譲歩もしていない。同じ要求を繰り返し、はっきりした答えを迫る。"

    if s.outcome is Outcome.in_progress and s.turn >= max_turns:
        s.outcome = Outcome.max_turns
        s.ending_reason = "規定のターン数に達した（未解決）"
        note = "時間切れ。未解決のまま場面を締めくくる。"
    return Step(s, reaction, note)


def end_by_trainee(state: DirectorState) -> DirectorState:
    """The trainee pressed 'end': the scene stops where it is."""
    if state.outcome is not Outcome.in_progress:
        return state
    s = state.model_copy(deep=True)
    s.outcome = Outcome.ended_by_trainee
    s.ending_reason = "受講者が練習を終了した"
    return s
