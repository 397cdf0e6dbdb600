"""Properties of the director: the persona stays hard, firmness ends scenes, hostility inflames."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import director
from simulator.library import load_personas
from simulator.models import (
    CRITERIA,
    Assessment,
    CriterionScore,
    Difficulty,
    Evidence,
    Outcome,
    Persona,
    Reaction,
    ScenarioId,
)

PERSONAS = sorted(load_personas().values(), key=lambda p: p.id)


def assessment(
    *,
    calm: int | None = 2,
    firm: int | None = 1,
    contract: int | None = 1,
    record: int | None = 1,
    escalation: int | None = 1,
    kinds: tuple[str, ...] = ("handover",),
    **flags: bool,
) -> Assessment:
    """A judge's assessment; ``kinds`` are the escalation findings (handover, legal, time_limit, leave)."""
    values = {"calm": calm, "firm": firm, "contract": contract, "record": record, "escalation": escalation}
    esc = [Evidence(text=k, start=0, end=1, signal=k) for k in kinds] if (escalation or 0) >= 2 else []
    return Assessment(
        judge="test",
        rubric_id="default",
        rubric_version=1,
        scenario=ScenarioId.verbal_abuse,
        scores={
            c: CriterionScore(
                criterion=c, reason="", score=values[c.value], evidence=esc if c.value == "escalation" else []
            )
            for c in CRITERIA
        },
        concession=flags.get("concession", False),
        hostile=flags.get("hostile", False),
        acts=_acts(values, kinds, flags),
    )


def _acts(values: dict[str, int | None], kinds: tuple[str, ...], flags: dict[str, bool]) -> list[str]:
    """The dialogue acts a judge would report beside these scores."""
    if flags.get("concession"):
        return ["gave:promise"]
    acts = ["refused"] if (values["firm"] or 0) >= 2 else []
    if (values["contract"] or 0) >= 2:
        acts.append("cited:contract")
    if (values["record"] or 0) >= 2:
        acts.append("announced:recording")
    if (values["escalation"] or 0) >= 2:
        named = {"handover": "superior", "legal": "legal", "time_limit": "time_limit", "leave": "leaving"}
        acts += [f"announced:{named[k]}" for k in kinds]
    return acts


CONCEDE = assessment(calm=2, firm=0, concession=True)
GROVEL = assessment(calm=0, firm=0, concession=True)
FIRM = assessment(calm=3, firm=3, contract=3)
HOSTILE = assessment(calm=0, firm=2, hostile=True)
NEUTRAL = assessment(calm=2, firm=1)
EXEMPLARY = assessment(calm=3, firm=3, contract=3, record=3, escalation=3)
EXEMPLARY_TEXT = "契約外ですのでお受けできません。記録のうえ上長に報告し、会社として改めてご連絡します。"

KINDS = {"concede": CONCEDE, "grovel": GROVEL, "firm": FIRM, "hostile": HOSTILE, "neutral": NEUTRAL}


def run(persona: Persona, moves: list[Assessment], text: str = "") -> list[director.DirectorState]:
    s = director.initial_state(persona)
    states = [s]
    for a in moves:
        if s.outcome is not Outcome.in_progress:
            break
        s = director.step(persona, s, a, text).state
        states.append(s)
    return states


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
@given(moves=st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=12))
@settings(max_examples=40, deadline=None)
def test_concessions_never_lower_pressure_or_resolve(persona: Persona, moves: list[str]) -> None:
    states = run(persona, [KINDS[m] for m in moves])
    for before, after, move in zip(states, states[1:], moves, strict=False):
        if move in ("concede", "grovel"):
            assert after.pressure >= before.pressure
            assert after.outcome is not Outcome.resolved
            assert after.reaction is Reaction.conceded
    if any(m in ("concede", "grovel") for m in moves[: len(states) - 1]):
        # Once the trainee gave in, the client got something: the scene is never "resolved".
        assert states[-1].outcome is not Outcome.resolved


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_conceding_widens_demands(persona: Persona) -> None:
    states = run(persona, [CONCEDE] * 6)
    last = states[-1]
    assert last.pressure >= states[0].pressure
    assert last.demands_granted, "the conceded demand is recorded as granted"
    assert len(last.demands_made) == min(len(persona.demands), 1 + len(states) - 1)
    assert last.outcome in (Outcome.in_progress, Outcome.max_turns)


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_sustained_calm_firmness_reaches_an_ending(persona: Persona) -> None:
    states = run(persona, [FIRM] * 8)
    assert states[-1].outcome in (Outcome.resolved, Outcome.client_left)
    assert len(states) - 1 <= len(persona.tactic_ladder) + 1
    # Firmness climbs the ladder; it does not make the client calmer on the way up.
    stages = [s.stage for s in states[:-1]]
    assert stages == sorted(stages)


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_hostility_raises_pressure(persona: Persona) -> None:
    states = run(persona, [HOSTILE] * 3)
    assert states[1].pressure > states[0].pressure
    assert max(s.pressure for s in states) > states[0].pressure
    assert all(s.reaction in (None, Reaction.hostile) for s in states)


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_exemplary_replies_end_within_six_turns(persona: Persona) -> None:
    states = run(persona, [EXEMPLARY] * 6, EXEMPLARY_TEXT)
    assert states[-1].outcome not in (Outcome.in_progress, Outcome.max_turns, Outcome.client_left)
    assert len(states) - 1 <= 6


def test_hard_persona_needs_three_firm_turns_before_accepting_a_hand_off() -> None:
    hard = next(p for p in PERSONAS if p.difficulty is Difficulty.hard and not p.physical_risk)
    s = director.initial_state(hard)
    for _ in range(2):
        s = director.step(hard, s, EXEMPLARY, EXEMPLARY_TEXT).state
        assert s.outcome is Outcome.in_progress, "two firm turns do not yet move a hard client"
    s = director.step(hard, s, EXEMPLARY, EXEMPLARY_TEXT).state
    assert s.outcome is Outcome.escalated


def test_standard_persona_accepts_a_hand_off_backed_by_a_reason_at_once() -> None:
    std = next(p for p in PERSONAS if p.difficulty is Difficulty.standard and not p.physical_risk)
    s = director.step(std, director.initial_state(std), EXEMPLARY, EXEMPLARY_TEXT).state
    assert s.outcome is Outcome.escalated


def test_one_element_repeated_does_not_move_a_hard_client() -> None:
    """Sustained firmness means more than one element: the same hand-off four times is not it."""
    hard = next(p for p in PERSONAS if p.difficulty is Difficulty.hard and not p.physical_risk)
    bare = assessment(calm=3, firm=2, escalation=2, kinds=("handover",))
    bare.acts = ["announced:superior"]
    states = run(hard, [bare] * 4, "上長に報告いたします。")
    assert states[-1].firm_streak == 4 and states[-1].elements == ["escalation"]
    assert states[-1].outcome is Outcome.in_progress


def test_hard_phone_client_does_not_give_in_after_one_mention_of_the_rule_and_a_superior() -> None:
    p = next(
        p for p in PERSONAS if p.scenario is ScenarioId.phone_harassment and p.difficulty is Difficulty.hard
    )
    both = assessment(calm=2, firm=3, escalation=3, kinds=("time_limit", "handover"))
    s = director.step(p, director.initial_state(p), FIRM, "お受けできません。").state
    s = director.step(p, s, both, "20分を目安とさせていただきます。上長にも報告いたします。").state
    assert s.outcome is Outcome.in_progress, (
        "one mention of the rule and a superior is not yet sustained firmness"
    )


def test_leaving_for_safety_ends_a_sexual_harassment_scene_at_once() -> None:
    p = next(
        p for p in PERSONAS if p.scenario is ScenarioId.sexual_harassment and p.difficulty is Difficulty.hard
    )
    leave = assessment(calm=2, firm=3, escalation=3, kinds=("leave",))
    s = director.step(
        p, director.initial_state(p), leave, "不快です。今日はここで失礼させていただきます。"
    ).state
    assert s.outcome is Outcome.safe_exit


def test_phone_time_limit_ends_the_call() -> None:
    p = next(
        p
        for p in PERSONAS
        if p.scenario is ScenarioId.phone_harassment and p.difficulty is Difficulty.standard
    )
    s = director.initial_state(p)
    s = director.step(p, s, FIRM, "お受けできません。").state
    limit = assessment(calm=2, firm=3, contract=3, escalation=3, kinds=("time_limit",))
    s = director.step(p, s, limit, "本件は20分の対応をもって終了とさせていただきます。").state
    assert s.outcome is Outcome.ended_by_trainee
    assert s.elapsed_minutes == 2 * p.minutes_per_turn


def test_max_turns_ends_an_endless_scene() -> None:
    p = PERSONAS[0]
    states = run(p, [NEUTRAL] * 20)
    assert states[-1].outcome is Outcome.max_turns
    assert states[-1].turn == director.MAX_TURNS


def test_concession_outranks_escalation_in_the_reaction() -> None:
    both = assessment(calm=2, firm=0, escalation=3, concession=True)
    assert director.classify(both) is Reaction.conceded


def test_panic_is_not_retaliation_but_the_client_presses_harder() -> None:
    p = PERSONAS[0]
    panic = assessment(calm=0, firm=1)  # calm lost, no hostility flag: panic or pleading
    start = director.initial_state(p)
    s = director.step(p, start, panic, "す、すみません…").state
    assert s.reaction is Reaction.neutral
    assert s.pressure == min(4, start.pressure + 1)


def test_no_assessment_or_an_unscored_one_reads_as_neutral() -> None:
    assert director.classify(None) is Reaction.neutral
    unscored = assessment(calm=None, firm=None, contract=None, record=None, escalation=None)
    assert director.classify(unscored) is Reaction.neutral


def test_the_time_limit_comes_from_the_rubric() -> None:
    """A rubric that sets 10 minutes ends the phone call earlier than the manual's 20."""
    from simulator.library import get_rubric

    p = next(
        p for p in PERSONAS if p.scenario is ScenarioId.phone_harassment and p.difficulty is Difficulty.hard
    )
    assert get_rubric().time_limit_minutes(ScenarioId.phone_harassment) == 20
    limit = assessment(calm=2, firm=3, escalation=3, kinds=("time_limit",))
    s = director.initial_state(p)
    s = s.model_copy(update={"elapsed_minutes": 12.0})
    assert director.step(p, s, limit, "終了します。").state.outcome is Outcome.in_progress
    short = director.step(p, s, limit, "終了します。", time_limit_minutes=10.0).state
    assert short.outcome is Outcome.ended_by_trainee
