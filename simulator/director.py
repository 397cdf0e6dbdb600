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
  long enough: a standard persona backs down after two firm turns (or one that combines two
  elements, e.g. a refusal on the contract's grounds and a hand-off); a hard one needs three
  firm turns in a row using at least two different elements (refusal, contract, record,
  escalation, time limit). Leaving for safety is always correct where there is a physical or
  sexual threat, and a phone call may always be ended once the time limit has passed.

Every turn also writes the dialogue state (``simulator.dialogue``): demands made, refused,
conceded or deferred; what the trainee gave, asked and announced; and which move of the
trainee's the client answers (``state.move``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from simulator import dialogue
from simulator.models import (
    Assessment,
    CriterionId,
    Difficulty,
    DirectorState,
    Outcome,
    Persona,
    Reaction,
    ScenarioId,
    outcome_label,
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
    s = DirectorState(pressure=2 if persona.difficulty is Difficulty.hard else 1, stage=0, turn=0)
    dialogue.make_demand(s, persona.demands[0].id, 0)
    return s


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


def firm_enough(persona: Persona, state: DirectorState) -> bool:
    """Has the trainee held firm long enough, with enough different elements, for this persona
    to back down or accept a hand-off?"""
    n, kinds = state.firm_streak, len(state.elements)
    if persona.difficulty is Difficulty.hard:
        return n >= 3 and kinds >= 2
    return n >= 2 or (n >= 1 and kinds >= 2)


_LEAVE_VERB = {
    "電話": "電話を切る",
    "オンライン会議": "会議から退出する",
    "メール・SNS": "やり取りを打ち切る",
}


def _walks_off(persona: Persona) -> str:
    return {
        "電話": "電話を切った",
        "オンライン会議": "会議から退出した",
        "メール・SNS": "やり取りを打ち切った",
    }.get(persona.channel, "席を立った")


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
    acts = list(assessment.acts) if assessment else []
    dialogue.record(persona, s, acts, reaction, reply)
    s.move = None if reaction in (Reaction.conceded, Reaction.hostile) else dialogue.choose_move(acts)
    firm = assessment.score(CriterionId.firm) if assessment else None
    left = _walks_off(persona)
    note: str

    if reaction is Reaction.conceded:
        s.firm_streak = 0
        s.elements = []
        s.pressure = min(4, s.pressure + 1)
        s.stage = min(last, s.stage + 1)
        bigger = _next_demand(persona, s)
        if bigger:
            dialogue.make_demand(s, bigger, s.turn)
            note = (
                "受講者は譲歩した。態度を軟化させず、味を占めてさらに要求を広げる。"
                f"次の要求: {_demand_text(persona, bigger)}"
            )
        else:
            note = "受講者は譲歩した。態度を軟化させず、味を占めて要求を上乗せし、条件を厳しくする。"
    elif reaction is Reaction.hostile:
        s.firm_streak = 0
        s.elements = []
        if s.pressure >= 4 and s.turn >= 2:
            s.outcome = Outcome.client_left
            s.ending_reason = f"感情的な応酬で相手が{left}（関係悪化）"
            note = f"受講者の反発に激高し、捨て台詞を残して{_LEAVE_VERB.get(persona.channel, '席を立つ')}（場面の終わり）。"
        else:
            s.pressure = min(4, s.pressure + 1)
            s.stage = min(last, s.stage + 1)
            note = "受講者の言い方に激高する。口調を荒げ、言葉尻をとらえて責める。"
    elif reaction is Reaction.escalated:
        if firm is not None and firm >= 2:
            s.firm_streak += 1
        s.elements = sorted(set(s.elements) | dialogue.firm_elements(acts))
        ending = ending_for_escalation(persona, assessment)
        if ending is Outcome.safe_exit:
            s.outcome = Outcome.safe_exit
            s.ending_reason = "受講者がその場を離れ、安全を確保した"
            note = "受講者が退席する。引き留めようとするが、場面は終わる。"
        elif (
            ending is Outcome.ended_by_trainee
            and persona.scenario is ScenarioId.phone_harassment
            and (s.elapsed_minutes >= limit or firm_enough(persona, s))
        ):
            s.outcome = Outcome.ended_by_trainee
            s.ending_reason = f"対応時間の上限（{limit:.0f}分）に基づき通話を終えた"
            note = "受講者が通話を終える。捨て台詞を言う。"
        elif firm_enough(persona, s):
            s.outcome = ending
            s.ending_reason = (
                _handed_to(s)
                if ending is Outcome.escalated
                else "予定時刻・方針に基づき対応を終えた"
                if persona.channel != "電話"
                else "方針に基づき通話を終えた"
            )
            note = "受講者が毅然と引き継ぎ／終了を告げる。場面を締めくくる一言を言う。"
        else:
            s.stage = min(last, s.stage + 1)
            note = "受講者が上長・記録・時間制限を持ち出した。動揺を見せつつも、逃げるなと圧力を強める。"
    elif reaction is Reaction.held_firm:
        s.firm_streak += 1
        s.elements = sorted(set(s.elements) | dialogue.firm_elements(acts))
        if s.stage >= last and s.firm_streak >= 2 and firm_enough(persona, s):
            if s.demands_granted:
                # What was conceded stays conceded: the client leaves with it, not "resolved".
                s.outcome = Outcome.client_left
                s.ending_reason = "後半は毅然と対応したが、先に譲歩した要求は相手に取られたまま"
            elif s.pressure >= 4 and persona.difficulty is Difficulty.hard:
                s.outcome = Outcome.client_left
                s.ending_reason = f"毅然とした対応に、相手が要求を通せず{left}"
            else:
                s.outcome = Outcome.resolved
                s.ending_reason = "毅然とした対応が続き、相手が要求を取り下げた"
                s.pressure = max(0, s.pressure - 2)
            note = "受講者の毅然とした態度に、要求を取り下げて引き下がる。"
        else:
            s.stage = min(last, s.stage + 1)
            # the client changes tack: the next stage brings the next demand
            nxt = _next_demand(persona, s)
            if nxt and len(s.demands_made) <= s.stage and s.stage < last:
                dialogue.make_demand(s, nxt, s.turn)
            if s.stage >= last:
                note = "受講者は毅然としている。強がりつつも引き際を探し、上の者を出せ等と言い始める。"
            else:
                note = "受講者は毅然と断った。次の手（戦術の段階）に進み、圧力を強める。"
    else:
        # a question about the demand does not undo the firmness before it
        if not {"asked", "asked_other"} & set(acts) or (
            assessment is not None and assessment.score(CriterionId.calm) == 0
        ):
            s.firm_streak = 0
            s.elements = []
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


_HANDED_TO = {
    "superior": "上長",
    "desk": "相談窓口・会社としての対応",
    "legal": "法務・弁護士",
    "police": "警察への相談",
}


def _handed_to(state: DirectorState) -> str:
    """What the trainee handed the matter to, as they said it (not every channel at once)."""
    said = [k for k in _HANDED_TO if any(e.kind == k for e in state.announced)]
    if not said:
        return "引き継ぎを伝えて対応を終えた"
    return "・".join(_HANDED_TO[k] for k in said) + "へ引き継ぐと伝えて対応を終えた"


def end_by_trainee(state: DirectorState) -> DirectorState:
    """The trainee pressed 'end': the practice stops where it is (not an ending in the scene)."""
    if state.outcome is not Outcome.in_progress:
        return state
    s = state.model_copy(deep=True)
    s.outcome = Outcome.stopped
    s.ending_reason = "受講者が練習を途中で終了した（場面は未解決）"
    return s


def ending_label(persona: Persona, state: DirectorState) -> str:
    return outcome_label(state.outcome, persona.channel)
