"""Whole sessions with the LLM voice and judge over real HTTP, and clean fallback mid-session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from simulator.config import load_settings
from simulator.engine import Engine
from simulator.library import load_personas
from simulator.models import Outcome
from simulator.paths import ROOT
from tests.support.openai_server import Behaviour, OpenAIServer, Reply, reply_json

PERSONA = sorted(load_personas().values(), key=lambda p: p.id)[0]
LLM_LINE = "（腕を組んで）契約、契約って、そればっかりだな。で、結局どうするんだ？"
REPLIES = [
    "ご不満の点は承知しました。ただ、契約の範囲外のご要望は会社の方針としてお受けできません。",
    "恐れ入りますが、お受けできません。本日の内容は記録しております。",
    "本件は上長に報告のうえ、会社として改めてご連絡いたします。",
]


def verdict(concession: bool = False) -> dict[str, Any]:
    def c(reason: str, score: int, evidence: str = "") -> dict[str, Any]:
        return {"reason": reason, "evidence": evidence, "score": score}

    return {
        "calm": c("受け止めがある", 3, "承知しました"),
        "firm": c("明確に断っている", 0 if concession else 3, "お受けできません"),
        "contract": c("契約を根拠にしている", 3, "契約の範囲外"),
        "record": c("記録に触れていない", 1),
        "escalation": c("引き継ぎなし", 1),
        "concession": concession,
        "hostile": False,
    }


def responder(judge_concedes: bool = False):  # type: ignore[no-untyped-def]
    """Persona requests get a line; judge requests (structured output) get a verdict."""

    def answer(body: dict[str, Any]) -> Behaviour:
        if "response_format" in body or "tools" in body:
            return reply_json(verdict(judge_concedes))
        return Reply(LLM_LINE)

    return answer


def env_for(server: OpenAIServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env.update(
        KASUHARA_LLM_BASE_URL=server.base_url,
        KASUHARA_LLM_API_KEY="sk-test",
        KASUHARA_PERSONA_MODEL="fake-persona",
        KASUHARA_JUDGE_MODEL="fake-judge",
        KASUHARA_LLM_TIMEOUT="3",
        **extra,
    )
    return env


def test_simulate_with_llm_voice_and_both_judges_end_to_end(tmp_path: Path) -> None:
    with OpenAIServer(default=responder()) as server:
        replies = tmp_path / "replies.txt"
        replies.write_text("\n".join(REPLIES[:2]), encoding="utf-8")
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "simulator",
                "simulate",
                "--persona",
                PERSONA.id,
                "--replies",
                str(replies),
                "--seed",
                "1",
                "--voice",
                "llm",
                "--judge",
                "both",
                "--json",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env=env_for(server),
        )
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        first = data["turns"][0]
        assert first["client"] == LLM_LINE and first["voice"].startswith("llm")
        assert [a["judge"].split("@")[0] for a in first["assessments"]] == ["hybrid", "llm:fake-judge"]
        assert first["notices"] == []
        # The persona model saw the persona, the director's note and the trainee's words.
        persona_calls = [b for b in server.requests if "response_format" not in b and "tools" not in b]
        system = persona_calls[0]["messages"][0]["content"]
        assert PERSONA.client.name in system and "受講者は毅然と断った" in system
        assert REPLIES[0] in json.dumps(persona_calls[0]["messages"], ensure_ascii=False)


def test_judges_disagreeing_on_a_concession_flag_the_turn_for_review() -> None:
    with OpenAIServer(default=responder(judge_concedes=True)) as server:
        engine = Engine(voice="llm", judge="both", settings=load_settings(env=env_for(server)))
        try:
            s = engine.start(PERSONA, seed=2)
            t = engine.take_turn(s, REPLIES[0], PERSONA)
        finally:
            engine.close()
    assert t.review_flag is True
    assert [a.judge.split("@")[0] for a in t.assessments] == ["hybrid", "llm:fake-judge"]


def test_server_stopped_mid_session_falls_back_and_the_session_goes_on() -> None:
    server = OpenAIServer(default=responder()).start()
    engine = Engine(voice="llm", judge="llm", settings=load_settings(env=env_for(server)))
    try:
        s = engine.start(PERSONA, seed=3)
        t1 = engine.take_turn(s, REPLIES[0], PERSONA)
        assert t1.client_after == LLM_LINE and not t1.notices
        assert t1.assessments[0].judge == "llm:fake-judge"
        server.stop()
        t2 = engine.take_turn(s, REPLIES[1], PERSONA)
    finally:
        engine.close()
        server.stop()
    # The turn still happened: a scripted line from the persona file, rule scores, and notices.
    assert t2.voice == "scripted"
    from simulator.library import persona_lines

    all_lines = {ln.text for _, ln in persona_lines(PERSONA)}
    assert (t2.client_after or t2.closing) in all_lines
    assert [a.judge.split("@")[0] for a in t2.assessments] == ["hybrid"]
    assert any("オフライン" in n for n in t2.notices), t2.notices
    assert any("オフライン採点" in n for n in t2.notices), t2.notices
    assert len(s.turns) == 2
    # the scene either goes on (a next line) or has ended (a closing line), never neither
    assert (s.outcome is Outcome.in_progress) == (t2.closing is None) and (t2.client_after or t2.closing)
