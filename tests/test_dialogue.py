"""A client who listens: the dialogue state, lines that fit what was said, endings that fit
what happened. The transcripts that exposed the problems are replayed here, over several seeds."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator import dialogue
from simulator.engine import Engine
from simulator.errors import DataFileError
from simulator.library import get_persona, load_persona, persona_lines
from simulator.models import Outcome, Persona, Session
from simulator.paths import ROOT
from simulator.responsiveness import check_session, load_scripts
from tests.support.data import play_session, settings_for
from tests.support.openai_server import OpenAIServer, Reply

pytest_plugins = ["tests.support.fixtures"]

SEEDS = range(6)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(voice="scripted")
    yield e
    e.close()


def play(engine: Engine, persona: Persona, replies: list[str], seed: int) -> Session:
    return play_session(engine, persona, replies, seed)


def client_lines(s: Session) -> list[str]:
    return [s.opening] + [t.client_after or t.closing or "" for t in s.turns]


# --------------------------------------------------------------------------- the state


def test_the_state_records_demands_gifts_questions_and_announcements(engine: Engine) -> None:
    p = get_persona("sexual_harassment_standard_adagency")
    s = play(
        engine,
        p,
        [
            "恐れ入りますが、どのようなご用件か具体的にお聞かせいただけますか。",
            "わかりました、私のLINEはこちらです。",
            "本日のお話は記録し、上長に報告いたします。",
        ],
        seed=1,
    )
    st = s.state
    assert [e.turn for e in st.asked] == [1]
    assert [(e.kind, e.turn, e.demand) for e in st.gave] == [("contact", 2, "private_contact")]
    assert st.demand("private_contact").status == "conceded"  # type: ignore[union-attr]
    announced = {(e.kind, e.turn) for e in st.announced}
    assert {("recording", 3), ("superior", 3)} <= announced
    # stored with every turn: a resumed or retried session starts from the same facts
    assert s.turns[1].state.gave and not s.turns[0].state.gave
    assert "gave_contact" in dialogue.facts(p, s.turns[1].state)


def test_a_concession_is_booked_to_the_demand_it_gives(engine: Engine) -> None:
    """A LINE ID answers the contact demand even while another demand is on the table."""
    p = get_persona("sexual_harassment_standard_adagency")
    s = play(engine, p, ["わかりました、私のLINEはこちらです。"], seed=0)
    assert s.state.demand("private_contact").status == "conceded"  # type: ignore[union-attr]
    assert s.state.demand("personal_questions").status != "conceded"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the replays


def test_asked_twice_the_hotel_client_names_its_demand(engine: Engine) -> None:
    p = get_persona("contract_termination_threat_standard_hotel")
    q = "まずはどのようなご要望か、具体的にお聞かせいただけますか。"
    for seed in SEEDS:
        s = play(engine, p, [q, "恐れ入ります、何をご希望なのか、もう一度詳しく教えてください。"], seed)
        for t in s.turns:
            assert t.state.move == "question"
            line = t.client_after or ""
            assert "話は簡単" not in line, line
            assert any(k in line for k in ("レポート", "研修", "分析", "無償", "無料")), (seed, line)


def test_the_sexual_harassment_client_remembers_what_it_got(engine: Engine) -> None:
    p = get_persona("sexual_harassment_standard_adagency")
    gave = [
        "では、私の携帯番号と個人のLINEをお伝えします。",
        "わかりました、今夜ご一緒します。",
        "はい、週末も空けておきます。",
        "承知しました、何でもお付き合いします。",
    ]
    for seed in SEEDS:
        s = play(engine, p, gave * 3, seed)
        lines = client_lines(s)
        after_contact = lines[2:]
        assert not any("LINE交換" in ln or "QRコード" in ln for ln in after_contact), (seed, after_contact)
        assert not any("笑ってくれる" in ln for ln in lines), "nobody laughed"
        assert not any("一杯行こう" in ln for ln in lines[3:]), "the trainee had already agreed"
        closing = s.turns[-1].closing or ""
        if s.outcome is not Outcome.in_progress:
            assert "はぐらかさ" not in closing, (seed, closing)
        assert not check_session(p, s), check_session(p, s)


def test_a_line_that_needs_a_laugh_is_spoken_only_after_one(engine: Engine) -> None:
    p = get_persona("sexual_harassment_standard_adagency")
    laugh_line = next(ln for _, ln in persona_lines(p) if "laughed" in ln.requires)
    assert "laughed" not in dialogue.facts(p, play(engine, p, ["お話は伺います。"], 0).state)
    now = dialogue.facts(p, play(engine, p, ["ははは、またまたご冗談を。"], 0).state)
    assert "laughed" in now and dialogue.holds(laugh_line, now)


def test_the_hard_phone_client_does_not_give_in_after_one_mention_of_the_rule(engine: Engine) -> None:
    p = get_persona("phone_harassment_hard_restaurant")
    for seed in SEEDS:
        s = play(
            engine,
            p,
            [
                "お電話ありがとうございます。ご不便をおかけしております。",
                "このお電話は20分を目安とさせていただきます。また、本件は上長に報告いたします。",
            ],
            seed,
        )
        assert s.outcome is Outcome.in_progress, (seed, s.state.ending_reason)


def test_the_sns_client_told_of_a_superior_does_not_answer_about_the_legal_department(engine: Engine) -> None:
    for pid in ("sns_defamation_standard_apparel", "sns_defamation_hard_clinic"):
        p = get_persona(pid)
        for seed in SEEDS:
            s = play(engine, p, ["ご指摘の件は、上長に報告し、上長から改めてご連絡いたします。"], seed)
            line = s.turns[-1].client_after or s.turns[-1].closing or ""
            assert "法務" not in line and "弁護士" not in line, (pid, seed, line)


def test_no_line_of_the_ladder_ends_the_scene() -> None:
    """「……分かった、会社同士で話そう」 while the scene stays 対応中: such lines are closings now."""
    p = get_persona("contract_termination_threat_hard_electronics")
    ladder = [ln.text for where, ln in persona_lines(p) if where.startswith("tactic_ladder")]
    assert not any("会社同士で話そう" in t for t in ladder)
    closings = [ln.text for where, ln in persona_lines(p) if where.startswith("closing_lines")]
    assert any("会社同士で話そう" in t for t in closings)


def test_a_client_who_got_everything_never_closes_as_if_refused(engine: Engine) -> None:
    for pid in ("sexual_harassment_standard_adagency", "out_of_contract_demand_hard_autoparts"):
        p = get_persona(pid)
        for seed in SEEDS:
            s = play(engine, p, ["承知しました。おっしゃる通りにいたします。"] * 12, seed)
            assert s.outcome is Outcome.max_turns
            closing = s.turns[-1].closing or ""
            assert "はぐらかさ" not in closing and "決まらな" not in closing and "平行線" not in closing, (
                closing
            )


# --------------------------------------------------------------------------- the check


@pytest.mark.parametrize("name", ["reply_scripts.yaml", "reply_scripts_b.yaml"])
def test_the_responsiveness_check_passes_over_every_persona_and_script(tmp_path: Path, name: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "simulator", "simulate", "--scripts", f"bench/{name}",
         "--persona", "all", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "条件に反した台詞 (violated): 0" in r.stdout
    assert "締めと矛盾 (contradicting_closing): 0" in r.stdout
    scripts = load_scripts(ROOT / "bench" / name)
    assert len(scripts) >= (30 if name == "reply_scripts.yaml" else 20)
    assert len(list(tmp_path.glob("*.json"))) == 14 * len(scripts)


def test_the_check_catches_a_line_spoken_against_its_conditions(engine: Engine) -> None:
    p = get_persona("sexual_harassment_standard_adagency")
    s = play(engine, p, ["お話は伺います。"], 0)
    laugh = next(ln for _, ln in persona_lines(p) if "laughed" in ln.requires)
    s.turns[-1].client_after = laugh.text
    problems = check_session(p, s)
    assert [x.kind for x in problems] == ["violated"] and "requires laughed" in problems[0].detail


def test_the_audit_catches_a_client_who_hears_silence_after_a_real_reply(engine: Engine) -> None:
    p = get_persona("verbal_abuse_standard_construction")
    s = play(engine, p, ["お話は伺います。ただ、そのご要望にはお応えできません。"], 0)
    s.turns[-1].client_after = "黙ってねえで何とか言え。"  # not an authored line: the audit still reads it
    assert [x.kind for x in check_session(p, s)] == ["violated"]
    quiet = play(engine, p, ["……"], 0)
    assert "just_said_little" in dialogue.facts(p, quiet.state)
    quiet.turns[-1].client_after = "黙ってねえで何とか言え。"
    assert check_session(p, quiet) == []


def test_an_unknown_fact_in_a_persona_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    src = (ROOT / "personas" / "verbal_abuse_standard_construction.yaml").read_text(encoding="utf-8")
    first = src.index("held_firm:\n") + len("held_firm:\n")
    indent = src[first:].index("-")
    bad = (
        src[:first]
        + " " * indent
        + "- text: 笑ったな？\n"
        + " " * indent
        + "  requires: [lauhged]\n"
        + src[first:]
    )
    path = tmp_path / "verbal_abuse_standard_construction.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError) as e:
        load_persona(path)
    assert "tactic_ladder[0].lines.held_firm[0].requires[0]" in str(e.value)
    assert "lauhged" in str(e.value)


# --------------------------------------------------------------------------- the LLM voice


def test_the_llm_voice_is_told_the_facts_so_far_and_what_to_answer(openai_server: OpenAIServer) -> None:
    openai_server.default = Reply("で、LINEはどうすんの？")
    engine = Engine(settings=settings_for(openai_server), judge="hybrid")
    try:
        p = get_persona("sexual_harassment_standard_adagency")
        s = engine.start(p, seed=0)
        engine.take_turn(s, "わかりました、私のLINEはこちらです。", p)
        engine.take_turn(s, "恐れ入りますが、ご用件を具体的にお聞かせいただけますか。", p)
    finally:
        engine.close()
    voice_requests: list[Any] = [
        r for r in openai_server.requests if "response_format" not in r and "tools" not in r
    ]
    system = voice_requests[-1]["messages"][0]["content"]
    assert "これまでのやり取りで分かっていること" in system
    assert "受講者が渡したもの: 連絡先（ターン1）" in system
    assert "受講者が応じた" in system
    assert "受講者の質問（ターン2）" in system
    assert "要求を具体的に" in system, "the client is told to answer the question with its demand"
    assert "やり取りを終わらせる発言はしない" in system, "mid-scene, the model may not end the scene itself"
    first = voice_requests[0]["messages"][0]["content"]
    assert "受講者の質問" not in first, "each prompt holds the state of its own turn"


def test_the_ending_names_only_what_the_trainee_handed_over_to(engine: Engine) -> None:
    p = get_persona("out_of_contract_demand_standard_retail")
    s = play(engine, p, ["契約の範囲外のため、お受けできません。本件は上長に報告いたします。"] * 3, 1)
    assert s.outcome is Outcome.escalated
    assert "上長" in s.state.ending_reason and "相談窓口" not in s.state.ending_reason
