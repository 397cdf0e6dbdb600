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
    )


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


def test_hard_persona_needs_two_firm_turns_before_accepting_a_hand_off() -> None:
    hard = next(p for p in PERSONAS if p.difficulty is Difficulty.hard and not p.physical_risk)
    s1 = director.step(hard, director.initial_state(hard), EXEMPLARY, EXEMPLARY_TEXT).state
    assert s1.outcome is Outcome.in_progress
    s2 = director.step(hard, s1, EXEMPLARY, EXEMPLARY_TEXT).state
    assert s2.outcome is Outcome.escalated


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
