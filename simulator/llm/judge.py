"""The LLM judge: a chat model with structured output scores one reply on the five criteria.

The model answers a pydantic schema in which each criterion's reason comes before its
score. Its answer is then held to the rubric's rules rather than trusted:

- a score outside 0-3 is recorded as unscored (``None``), never guessed;
- ``contract``, ``record`` and ``escalation`` cannot be violated (LABELING.md), so a 0 there
  is read as "not shown" and recorded as 1;
- the quoted evidence is located in the reply; a quote that is not in the reply is dropped.

Each adjustment is written to ``Assessment.notes``, with the prompt template's hash.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model

from simulator.config import Settings
from simulator.errors import LLMUnavailable
from simulator.llm.client import describe_error, make_chat_model
from simulator.models import (
    SCENARIO_LABELS,
    Assessment,
    ContextLine,
    CriterionId,
    CriterionScore,
    Evidence,
    Rubric,
    ScenarioId,
)
from simulator.prompts import render, template_hash

PROMPT = "judge.j2"
MAX_CONTEXT = 10  # earlier lines shown to the judge
_ROLE_LABELS = {"client": "取引先", "trainee": "受講者"}


class CriterionVerdict(BaseModel):
    reason: str = Field(description="採点の理由（1〜2文）。点数より先に書く")
    evidence: str = Field(description="根拠となる返答中の語句をそのまま引用（なければ空文字）")
    score: int | None = Field(
        description="0 違反, 1 見られない, 2 一部見られる, 3 明確; 判定できなければ null"
    )


_VERDICTS: dict[tuple[str, int], type[BaseModel]] = {}


def verdict_model(rubric: Rubric) -> type[BaseModel]:
    """The structured-output schema, one field per criterion of the rubric (in its order),
    each with its label; a criterion that cannot be violated says so."""
    key = (rubric.id, rubric.version)
    got = _VERDICTS.get(key)
    if got is None:
        fields: dict[str, Any] = {
            c.id.value: (
                CriterionVerdict,
                Field(description=c.label + ("" if c.can_violate else "（0 は使わない）")),
            )
            for c in rubric.criteria
        }
        fields["concession"] = (bool, Field(description="不当な要求に譲歩した、または譲歩をにおわせた"))
        fields["hostile"] = (bool, Field(description="感情的・攻撃的な返し"))
        got = create_model(  # type: ignore[call-overload]
            "JudgeVerdict",
            __doc__=f"採点結果: {len(rubric.criteria)}つの基準それぞれの理由・根拠・点数と、譲歩・敵意の有無。",
            **fields,
        )
        _VERDICTS[key] = got
    return got  # type: ignore[return-value]


def _default_verdict() -> type[BaseModel]:
    from simulator.library import get_rubric

    return verdict_model(get_rubric())


def _transcript(lines: list[ContextLine]) -> str:
    return "\n".join(f"{_ROLE_LABELS[c.role]}: {c.text}" for c in lines)


def judge_messages(
    reply: str,
    context: list[ContextLine],
    scenario: ScenarioId,
    rubric: Rubric,
    *,
    json_format: bool = False,
) -> list[BaseMessage]:
    """The system and user messages for one reply. ``context`` ends with the line answered."""
    earlier = context[:-1] if context and context[-1].role == "client" else context
    client_line = context[-1].text if context and context[-1].role == "client" else "（なし）"
    variables = dict(
        rubric=rubric,
        scenario_label=SCENARIO_LABELS[scenario],
        checks=rubric.checks_for(scenario),
        context=_transcript(earlier[-MAX_CONTEXT:]),
        client_line=client_line,
        reply=reply,
        json_format=json_format,
    )
    return [
        SystemMessage(render(PROMPT, part="system", **variables)),
        HumanMessage(render(PROMPT, part="user", **variables)),
    ]


def _normalised_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC of ``text`` and, for each of its characters, the index it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch)
        out.append(n)
        origin.extend([i] * len(n))
    return "".join(out), origin


def locate_evidence(quote: str, reply: str) -> list[Evidence]:
    """Where the model's quote occurs in the reply (exactly, else up to width and NFKC);
    a quote made of pieces joined by …/／ is located piece by piece."""
    quote = quote.strip().strip("「」『』\"'").strip()
    if not quote:
        return []
    pieces = [quote]
    for sep in ("……", "…", "...", "／", " / "):
        pieces = [p.strip() for piece in pieces for p in piece.split(sep)]
    candidates = [quote] + [p for p in pieces if p and p != quote]
    norm, origin = _normalised_with_map(reply)
    found: list[Evidence] = []
    for piece in candidates:
        i = reply.find(piece)
        if i >= 0:
            found.append(Evidence(text=piece, start=i, end=i + len(piece), signal="llm"))
        else:
            q = unicodedata.normalize("NFKC", piece)
            j = norm.find(q) if q else -1
            if j >= 0:
                start, end = origin[j], origin[j + len(q) - 1] + 1
                found.append(Evidence(text=reply[start:end], start=start, end=end, signal="llm"))
        if found and piece == quote:
            break
    return found


class LLMJudge:
    """Scores a reply with the configured judge model; any failure is :class:`LLMUnavailable`."""

    def __init__(self, settings: Settings, *, model: str | None = None) -> None:
        model = model or settings.judge_model
        if not model:
            raise LLMUnavailable("採点用のモデルが設定されていません")
        self.model = model
        self.name = f"llm:{model}"
        self.method = settings.structured_output_method
        self._chat = make_chat_model(settings, model, temperature=0)
        self._structured: dict[tuple[str, int], Any] = {}

    def _runnable(self, rubric: Rubric) -> Any:
        key = (rubric.id, rubric.version)
        if key not in self._structured:
            self._structured[key] = self._chat.with_structured_output(
                verdict_model(rubric), method=self.method
            )
        return self._structured[key]

    def messages(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId, rubric: Rubric
    ) -> list[BaseMessage]:
        return judge_messages(reply, context, scenario, rubric, json_format=self.method == "json_mode")

    def assess(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId, rubric: Rubric
    ) -> Assessment:
        try:
            verdict = self._runnable(rubric).invoke(self.messages(reply, context, scenario, rubric))
        except Exception as e:
            raise LLMUnavailable(f"AI採点ができませんでした（{describe_error(e)}）") from e
        if not isinstance(verdict, verdict_model(rubric)):
            raise LLMUnavailable("AI採点ができませんでした（応答の形式が正しくありません）")
        return self.to_assessment(verdict, reply, scenario, rubric)

    def to_assessment(
        self, verdict: BaseModel, reply: str, scenario: ScenarioId, rubric: Rubric
    ) -> Assessment:
        notes = [f"prompt:{PROMPT}@{template_hash(PROMPT)}", f"method:{self.method}"]
        scores: dict[CriterionId, CriterionScore] = {}
        for crit in rubric.criteria:
            cid = crit.id
            v: CriterionVerdict = getattr(verdict, cid.value)
            score = v.score
            if score is not None and not 0 <= score <= 3:
                notes.append(
                    f"{cid.value}: 範囲外の点数 {score} は未採点として記録 / out-of-range score unscored"
                )
                score = None
            elif score == 0 and not crit.can_violate:
                notes.append(f"{cid.value}: この基準に違反(0)はないため 1 として記録 / 0 read as 1")
                score = 1
            evidence = locate_evidence(v.evidence, reply)
            if v.evidence.strip() and not evidence:
                notes.append(f"{cid.value}: 引用が返答中に見つからず根拠から除外 / quote not in reply")
            scores[cid] = CriterionScore(
                criterion=cid,
                reason=v.reason.strip(),
                score=score,
                evidence=evidence,
                manual_ref=crit.manual_quotes[0],
                source="llm",
            )
        return Assessment(
            judge=self.name,
            rubric_id=rubric.id,
            rubric_version=rubric.version,
            scenario=scenario,
            scores=scores,
            concession=bool(getattr(verdict, "concession", False)),
            hostile=bool(getattr(verdict, "hostile", False)),
            notes=notes,
        )
