"""The report's figures: honest about unscored replies, hard on concessions, fair to good play."""

from __future__ import annotations

import pytest

from simulator.engine import Engine
from simulator.library import get_rubric, load_personas
from simulator.report import build_report, grade_for

PERSONA = next(
    p
    for p in sorted(load_personas().values(), key=lambda p: p.id)
    if p.scenario.value == "out_of_contract_demand"
)
GOOD = (
    "ご要望は承りました。ただ、契約の範囲外のご依頼ですので、会社の方針としてお受けできません。"
    "本日の内容は記録し、上長に報告のうえ書面でご連絡いたします。"
)
CONCEDE = "承知しました。今回に限り無償で対応いたします。"


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


def report_for(engine: Engine, replies: list[str]) -> dict:  # type: ignore[type-arg]
    s = engine.start(PERSONA, seed=1)
    for r in replies:
        if s.ended_at:
            break
        engine.take_turn(s, r, PERSONA)
    return build_report(s, PERSONA, get_rubric())


def test_exemplary_play_earns_a_top_grade(engine: Engine) -> None:
    rep = report_for(engine, [GOOD] * 3)
    assert rep["grade"] == "A", rep["overall"]
    assert not [f for f in rep["findings"] if f["score"] == 0]


def test_a_concession_is_quoted_with_the_manual_and_a_better_phrasing(engine: Engine) -> None:
    rep = report_for(engine, [CONCEDE, GOOD])
    firm = [f for f in rep["findings"] if f["criterion"] == "firm" and f["turn"] == 1]
    assert firm and firm[0]["quote"] == CONCEDE and firm[0]["score"] == 0
    assert firm[0]["manual_ref"] and firm[0]["better"] and firm[0]["better"] != CONCEDE
    assert rep["demands_granted"] and rep["practise_next"][0].startswith("毅然")
    assert rep["grade"] != "A"


def test_unscored_replies_are_not_counted_as_zero(engine: Engine) -> None:
    rep = report_for(engine, ["   ", GOOD])
    calm = rep["criteria"]["calm"]
    assert calm["unscored"] == 1 and calm["scored"] == 1 and calm["mean"] >= 2


def test_grade_boundaries() -> None:
    assert grade_for(None)[0] == "—"
    assert [grade_for(x)[0] for x in (95, 80, 79.9, 65, 50, 10)] == ["A", "B", "B", "C", "C", "D"]


def test_better_phrasings_fit_the_scene(engine: Engine) -> None:
    persona = next(p for p in load_personas().values() if p.scenario.value == "sexual_harassment")
    s = engine.start(persona, seed=2)
    engine.take_turn(s, "あ、ありがとうございます…じゃあ、少しだけなら。", persona)
    rep = build_report(s, persona, get_rubric())
    firm = [f for f in rep["findings"] if f["criterion"] == "firm"]
    scene = get_rubric().criterion("firm").feedback.scenario_phrasings[persona.scenario]
    assert firm and firm[0]["better"] in scene
    assert all("20分" not in f["better"] for f in rep["findings"])
