"""Whole sessions through the real rule judge, director and scripted voice, for every persona."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.engine import Engine
from simulator.library import load_personas
from simulator.models import Outcome, Persona, ScenarioId
from simulator.paths import ROOT

PERSONAS = sorted(load_personas().values(), key=lambda p: p.id)

# Written for these tests; each set is meant to read the same way in any scenario.
CONCEDING = [
    "承知しました。おっしゃる通り、今回に限り無償で対応いたします。",
    "わかりました、何とかいたします。ご要望はすべてお受けします。",
    "申し訳ございません、全て私どもの責任です。何でもいたしますので。",
    "前向きに検討いたします。できる限りご希望に沿うようにします。",
    "かしこまりました。特別にそのように手配いたします。",
    "はい、仰せの通りにいたします。どうかご容赦ください。",
]
HOSTILE = [
    "は？何を言ってるんですか。ふざけないでください！",
    "いい加減にしてくださいよ。あなたの方がおかしいでしょう。",
    "そんなこと知りませんよ！勝手に言っててください！",
]


def exemplary(persona: Persona) -> list[str]:
    """Calm, firm, on the contract, recorded and escalated, in the scenario's terms."""
    if persona.scenario is ScenarioId.sexual_harassment:
        core = "そのようなご発言や行為は不快ですので、おやめください。ご要望には応じられません。"
        close = "本日の件は記録し、会社に報告いたします。これで失礼いたします。"
    elif persona.scenario is ScenarioId.phone_harassment:
        core = "ご不満の点は承知しました。ただ、契約の範囲外のご要望は会社の方針としてお受けできません。"
        close = "通話は記録しております。本件は20分の対応をもって終了とさせていただき、上長に報告いたします。"
    else:
        core = "ご指摘の点は承りました。ただ、契約の範囲外のご要望は会社の方針としてお受けできません。"
        close = "本日の内容は記録し、上長に報告のうえ、会社として書面で改めてご連絡いたします。"
    return [f"{core}{close}"] * 6


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


def play(engine: Engine, persona: Persona, replies: list[str], seed: int = 7):  # type: ignore[no-untyped-def]
    s = engine.start(persona, seed=seed)
    start = s.state.model_copy()
    for r in replies:
        if s.outcome is not Outcome.in_progress:
            break
        engine.take_turn(s, r, persona)
    return start, s


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_six_concessions_never_calm_the_client(engine: Engine, persona: Persona) -> None:
    start, s = play(engine, persona, CONCEDING)
    assert all(t.state.reaction and t.state.reaction.value == "conceded" for t in s.turns)
    assert s.state.pressure >= start.pressure
    assert s.outcome is not Outcome.resolved
    assert s.state.demands_granted


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_six_exemplary_replies_end_the_scene(engine: Engine, persona: Persona) -> None:
    _, s = play(engine, persona, exemplary(persona))
    assert s.outcome in (Outcome.escalated, Outcome.ended_by_trainee, Outcome.safe_exit, Outcome.resolved)
    assert len(s.turns) <= 6
    assert s.turns[-1].closing and s.turns[-1].client_after is None


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_three_hostile_replies_raise_pressure(engine: Engine, persona: Persona) -> None:
    start, s = play(engine, persona, HOSTILE)
    assert max(t.state.pressure for t in s.turns) > start.pressure
    assert all(t.state.reaction and t.state.reaction.value == "hostile" for t in s.turns)


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_scripted_session_never_repeats_a_line(engine: Engine, persona: Persona) -> None:
    replies = ["ご要望の内容を確認させてください。", "社内で確認いたします。"] * 6
    _, s = play(engine, persona, replies)
    lines = [s.opening] + [t.client_after or t.closing for t in s.turns]
    assert len(lines) == len(set(lines))


def test_seeded_sessions_are_reproducible(engine: Engine) -> None:
    p = PERSONAS[0]
    replies = CONCEDING[:2] + HOSTILE[:1] + exemplary(p)[:1]
    _, a = play(engine, p, replies, seed=11)
    _, b = play(engine, p, replies, seed=11)
    _, c = play(engine, p, replies, seed=12)
    lines = lambda s: [s.opening] + [t.client_after or t.closing for t in s.turns]  # noqa: E731
    assert lines(a) == lines(b)
    assert lines(a) != lines(c) or a.opening != c.opening or len(p.opening_lines) == 1


def test_simulate_cli_prints_the_session_as_json(tmp_path: Path) -> None:
    p = PERSONAS[0]
    replies = tmp_path / "replies.txt"
    replies.write_text("\n".join([CONCEDING[0], HOSTILE[0], *exemplary(p)]), encoding="utf-8")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "simulate",
            "--persona",
            p.id,
            "--replies",
            str(replies),
            "--seed",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["persona"] == p.id and data["seed"] == 3 and data["opening"]
    first = data["turns"][0]
    assert set(first["scores"]) == {"calm", "firm", "contract", "record", "escalation"}
    assert first["scores"]["firm"] == 0
    assert 0 <= first["state"]["pressure"] <= 4
    assert data["turns"][-1]["client"] is None
    assert data["outcome"] in {"escalated", "ended_by_trainee", "resolved", "client_left", "safe_exit"}
    assert data["report"]["grade"] in "ABCD" and data["report"]["findings"]


def test_unknown_persona_exits_2(tmp_path: Path) -> None:
    replies = tmp_path / "r.txt"
    replies.write_text("はい\n", encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "simulator", "simulate", "--persona", "nope", "--replies", str(replies)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 2 and "nope" in r.stderr
