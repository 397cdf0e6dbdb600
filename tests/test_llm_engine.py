"""The LLM layer inside the real engine: a whole turn over HTTP, with and without a model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.models import CriterionId
from tests.support.data import settings_for, verdict
from tests.support.openai_server import Behaviour, Fail, OpenAIServer, Reply, reply_json

pytest_plugins = ["tests.support.fixtures"]  # the openai_server fixture

engine_module = pytest.importorskip("simulator.engine")

REPLY = "ご要望は承りました。ただ、契約の範囲外の作業は会社の方針としてお受けできません。"
LINE = "方針だと？そんな言い訳が通ると思うなよ。"


def by_kind(judge: Behaviour, voice: Behaviour) -> Any:
    """The judge and the voice run concurrently, so answer by what the request asks for."""

    def respond(body: dict[str, Any]) -> Behaviour:
        structured = "tools" in body or "response_format" in body
        return judge if structured else voice

    return respond


@pytest.fixture
def persona_id() -> str:
    from simulator import library

    personas = [p for p in library.personas().values() if p.scenario.value == "out_of_contract_demand"]
    assert personas, "the shipped personas cover out_of_contract_demand"
    return personas[0].id


@pytest.fixture
def engine_for(openai_server: OpenAIServer) -> Iterator[Any]:
    engines: list[Any] = []

    def make(**overrides: object) -> Any:
        engine = engine_module.Engine(settings=settings_for(openai_server, **overrides))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def test_llm_voice_and_both_judges_in_one_turn(
    openai_server: OpenAIServer, engine_for: Any, persona_id: str
) -> None:
    openai_server.default = by_kind(reply_json(verdict(firm="お受けできません")), Reply(LINE))
    engine = engine_for(judge="both")
    session = engine.start(persona_id)
    turn = engine.take_turn(session, REPLY)

    assert (turn.client_after or turn.closing) == LINE
    assert turn.voice == "llm:fake-persona" and turn.notices == []
    judges = [a.judge for a in turn.assessments]
    assert judges[0].startswith("hybrid@") and "llm:fake-judge" in judges
    llm = next(a for a in turn.assessments if a.judge == "llm:fake-judge")
    assert llm.score(CriterionId.firm) == 3
    assert any(n.startswith("prompt:judge.j2@") for n in llm.notes)
    prompts = [r for r in openai_server.requests if "tools" not in r and "response_format" not in r]
    assert REPLY in prompts[0]["messages"][-1]["content"], "the voice saw the trainee's reply"


def test_a_turn_goes_on_when_the_model_is_down(
    openai_server: OpenAIServer, engine_for: Any, persona_id: str
) -> None:
    openai_server.default = Fail(500)
    engine = engine_for(judge="both")
    session = engine.start(persona_id)
    turn = engine.take_turn(session, REPLY)

    assert turn.voice == "scripted"
    assert [a.judge.split("@")[0] for a in turn.assessments] == ["hybrid"]
    assert any("台本音声に切り替えました" in n and "500" in n for n in turn.notices)
    assert any("AI採点" in n for n in turn.notices)
