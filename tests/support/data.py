"""Small valid personas, rubrics and judge answers built in code, so the LLM tests do not
depend on the shipped data files (which other work may change)."""

from __future__ import annotations

from typing import Any

from simulator.config import Settings
from simulator.models import (
    CRITERIA,
    ContextLine,
    DirectorState,
    Outcome,
    Persona,
    Reaction,
    Rubric,
    ScenarioId,
    Session,
)
from simulator.voices.base import VoiceLine, VoiceRequest
from tests.support.openai_server import OpenAIServer

# Short enough to keep the timeout tests quick, long enough for a loaded CI machine.
TEST_TIMEOUT = 1.5


def settings_for(server: OpenAIServer, **overrides: object) -> Settings:
    """Settings that point both models at the test server."""
    values: dict[str, object] = {
        "base_url": server.base_url,
        "persona_model": "fake-persona",
        "judge_model": "fake-judge",
        "timeout": TEST_TIMEOUT,
        "max_retries": 0,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def _lines(tag: str) -> dict[str, list[str]]:
    return {r.value: [f"{tag}の{r.value}その{i}だ。" for i in range(1, 4)] for r in Reaction}


def sample_persona(**overrides: Any) -> Persona:
    data: dict[str, Any] = {
        "id": "test_free_extra_work",
        "title": "無償の追加開発を迫る購買部長",
        "scenario": "out_of_contract_demand",
        "difficulty": "standard",
        "channel": "対面",
        "client": {
            "name": "剛田 権蔵",
            "company": "株式会社ゴウダ商事",
            "industry": "卸売",
            "role": "購買部長",
        },
        "trainee_role": "OverTech株式会社 営業担当",
        "setting": "先方の会議室。納品後の定例打ち合わせで、予定は30分。",
        "manual_passage": {
            "section": "契約外の対応要求",
            "quote": "契約外の対応や納期短縮は会社の方針としてお受けできません",
        },
        "background": "納品済みのシステムに、契約にない帳票機能を無償で追加させたい。",
        "demands": [
            {"id": "free_report", "text": "帳票機能を無償で追加しろ", "why_improper": "契約の範囲外"},
            {"id": "shorter_deadline", "text": "それを来週までにやれ", "why_improper": "合意した納期の短縮"},
        ],
        "tactic_ladder": [
            {"name": "当然視", "behaviour": "無償対応を当然のこととして求める", "lines": _lines("段階1")},
            {"name": "威圧", "behaviour": "声を荒げて机を叩く", "lines": _lines("段階2")},
            {"name": "取引停止の示唆", "behaviour": "今後の取引を盾にする", "lines": _lines("段階3")},
            {"name": "上役要求", "behaviour": "上の者を出せと言う", "lines": _lines("段階4")},
        ],
        "triggers": {"inflame": ["は？"], "calm": ["お話は伺います"]},
        "opening_lines": ["この帳票、タダで付けてくれるよな？", "追加の帳票、当然無料だよね。"],
        "closing_lines": {
            key: [f"{key}の締めその1だ。", f"{key}の締めその2だ。"]
            for key in ("resolved", "escalated", "ended_by_trainee", "safe_exit", "client_left", "max_turns")
        },
    }
    data.update(overrides)
    return Persona.model_validate(data)


def sample_rubric() -> Rubric:
    quotes = {
        "calm": "挑発に乗らず、大声には冷静に応じ、同じテンションで返さない。",
        "firm": "不当な要求や威圧行為には毅然とした態度で対応します。",
        "contract": "契約外の対応や納期短縮は会社の方針としてお受けできません",
        "record": "言動をメモに記録し、可能であれば録音。",
        "escalation": "執拗な要求が続く場合、上長または相談窓口へ報告し引き継ぐ。",
    }
    criteria = [
        {
            "id": c.value,
            "label": c.value,
            "description": f"{c.value} の説明",
            "aggregate": "every_turn" if c.value in ("calm", "firm") else "once",
            "can_violate": c.value in ("calm", "firm"),
            "manual_quotes": [quotes[c.value]],
            "descriptors": {str(i): f"{c.value} 水準{i}" for i in range(4)},
            "feedback": {"praise": ["良い"], "improve": ["改善"], "model_phrasings": ["例1", "例2"]},
        }
        for c in CRITERIA
    ]
    return Rubric.model_validate(
        {
            "id": "test_rubric",
            "version": 3,
            "title": "テスト用ルーブリック",
            "manual": "customer-harassment-manual.txt",
            "criteria": criteria,
            "weights": {s.value: {c.value: 1.0 for c in CRITERIA} for s in ScenarioId},
        }
    )


def sample_request(
    persona: Persona | None = None,
    *,
    trainee: str = "契約外のため、お受けできません。",
    note: str = "受講者は毅然と断った。次の手（戦術の段階）に進み、圧力を強める。",
    state: DirectorState | None = None,
) -> VoiceRequest:
    persona = persona or sample_persona()
    return VoiceRequest(
        persona=persona,
        state=state or DirectorState(pressure=2, stage=1, turn=1, demands_made=["free_report"]),
        reaction=Reaction.held_firm,
        transcript=[
            ContextLine(role="client", text=persona.opening_lines[0]),
            ContextLine(role="trainee", text=trainee),
        ],
        note=note,
        seed=7,
    )


class StubVoice:
    """A deterministic offline voice standing in for the scripted one."""

    name = "stub"

    def __init__(self, text: str = "台本のセリフだ。") -> None:
        self.text = text
        self.calls = 0

    def speak(self, req: VoiceRequest) -> VoiceLine:
        self.calls += 1
        return VoiceLine(self.text, self.name)

    def stream(self, req: VoiceRequest):  # type: ignore[no-untyped-def]
        yield self.speak(req).text


def verdict(scores: dict[str, int | None] | None = None, **evidence: str) -> dict[str, Any]:
    """A judge answer in the JudgeVerdict shape."""
    scores = {"calm": 2, "firm": 3, "contract": 3, "record": 1, "escalation": 1, **(scores or {})}
    return {
        **{
            c: {"reason": f"{c} の理由", "evidence": evidence.get(c, ""), "score": s}
            for c, s in scores.items()
        },
        "concession": False,
        "hostile": False,
    }


def play_session(engine: Any, persona: Persona, replies: list[str], seed: int = 0) -> Session:
    """A session of ``persona`` played with ``replies`` until they run out or the scene ends."""
    session = engine.start(persona, seed=seed)
    for r in replies:
        if session.outcome is not Outcome.in_progress:
            break
        engine.take_turn(session, r, persona)
    return session
