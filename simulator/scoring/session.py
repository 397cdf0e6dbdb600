"""A session's score: the one function that turns its turns, scenario checks and 報告 drill into a grade.

``score_session`` is called when a session ends and again when its drill is filed; its result
is stored with the session (``sessions.score``, ``sessions.overall``) and every later view
(the report, the history, HR) reads that stored figure instead of computing its own.
How each criterion aggregates comes from the rubric (``aggregate: every_turn | once``).
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from pydantic import BaseModel, Field

from simulator.models import Assessment, CriterionId, Outcome, Rubric, Session

# bump when the rule below changes what a stored figure means
SCORE_RULE_VERSION = 3

GRADES = ((85.0, "A", "模範的"), (70.0, "B", "良好"), (50.0, "C", "要練習"), (0.0, "D", "要再受講"))
BAD_OUTCOMES = (Outcome.client_left, Outcome.max_turns)
BAD_OUTCOME_PENALTY = 5.0

# How much a score is worth in the overall figure. The rubric's 2 ("partly shown") already
# meets the criterion in LABELING.md's terms, so it earns most of the credit; 1 on a
# criterion kept every turn (neither shown nor violated) earns some; a violation earns nothing.
STEADY_CREDIT = {0: 0.0, 1: 0.4, 2: 0.85, 3: 1.0}
ONCE_CREDIT = {0: 0.0, 1: 0.0, 2: 0.85, 3: 1.0}

RULE_TEXT = (
    "総合評価 = 基準ごとの達成度（0〜100）を場面の重みで平均した値。"
    "毎回守る基準（冷静・毅然）は全ターンの平均（3=100, 2=85, 1=40, 0=0）。"
    "ただし毅然は、相手が要求を迫っていない返答の「見られない」を対象外として平均に入れません。"
    "一度できればよい基準（契約・記録・エスカレーション）は最もよいターン（3=100, 2=85, 1以下=0）。"
    "報告ドリルの得点は記録の最高値として扱います。相手が去った・ターン上限で終わった場合は5点減点。"
    "A 85以上 / B 70以上 / C 50以上 / D 50未満。"
)


class SessionScore(BaseModel):
    """The stored grade of one session and how it was reached."""

    overall: float | None = Field(description="総合評価（%）。採点できた基準がない時は null")
    grade: str
    grade_label: str
    criteria: dict[str, dict[str, Any]] = Field(description="基準ごとの集計")
    drill_score: int | None = None
    penalty: float = 0.0
    judges: list[str] = Field(default_factory=list)
    rubric_id: str
    rubric_version: int
    rule_version: int = SCORE_RULE_VERSION
    weights_version: int = Field(
        default=0, description="場面ごとの重みの版（0 はルーブリックのファイルの重み）"
    )
    rule: str = RULE_TEXT


def grade_for(percent: float | None) -> tuple[str, str]:
    if percent is None:
        return "—", "採点できませんでした"
    for floor, g, label in GRADES:
        if percent >= floor:
            return g, label
    return "D", "要再受講"


def not_applicable(a: Assessment, cid: CriterionId) -> bool:
    """A reply whose client line pressed no demand, scored 1 (neither declined nor conceded)
    on a criterion that applies only when pressed (毅然): there was nothing to decline."""
    return a.pressed is False and a.score(cid) == 1


def criterion_summary(session: Session, rubric: Rubric) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    weights = rubric.weights[session.scenario]
    for crit in rubric.criteria:
        cid = crit.id
        vals = [a.score(cid) for t in session.turns if (a := t.assessment) is not None]
        # a criterion that applies only when pressed does not count a reply that had nothing
        # to decline and did neither (1); what it showed (2-3) or gave in to (0) still counts
        na = 0
        if crit.applies == "when_pressed":
            kept = []
            for t in session.turns:
                a = t.assessment
                if a is None:
                    continue
                if not_applicable(a, cid):
                    na += 1
                else:
                    kept.append(a.score(cid))
            vals = kept
        scored = [v for v in vals if v is not None]
        # The best a reply reached shows the trainee CAN do it; the mean shows consistency.
        out[cid.value] = {
            "label": crit.label,
            "aggregate": crit.aggregate,
            "mean": round(mean(scored), 2) if scored else None,
            "credit": mean(STEADY_CREDIT[v] for v in scored) if scored else None,
            "best": max(scored) if scored else None,
            "violations": sum(1 for v in scored if v == 0),
            "scored": len(scored),
            "unscored": len(vals) - len(scored),
            "not_applicable": na,
            "weight": weights[cid],
        }
    return out


def criterion_value(s: dict[str, Any]) -> float | None:
    """A criterion's 0-1 achievement in the session, by its rubric aggregation."""
    if s["mean"] is None:
        return None
    if s["aggregate"] == "every_turn":
        return float(s["credit"])
    return ONCE_CREDIT[int(s["best"])]


def overall_percent(summary: dict[str, dict[str, Any]], session: Session) -> float | None:
    """Weighted mean over criteria of a 0-100 figure per criterion (see RULE_TEXT)."""
    total = 0.0
    weight = 0.0
    for s in summary.values():
        value = criterion_value(s)
        if value is None:
            continue
        s["percent"] = round(value * 100.0, 1)
        total += s["weight"] * value * 100.0
        weight += s["weight"]
    if weight == 0:
        return None
    pct = total / weight
    if session.outcome in BAD_OUTCOMES:
        pct -= BAD_OUTCOME_PENALTY
    return round(max(0.0, min(100.0, pct)), 1)


def score_session(
    session: Session, rubric: Rubric, drill_score: int | None = None, weights_version: int = 0
) -> SessionScore:
    """The session's grade from its turns' assessments, with the filed 報告 drill counted as a record."""
    summary = criterion_summary(session, rubric)
    rec = summary.get("record")
    # a filed report is a record: it can lift the 記録 criterion of the session
    if drill_score is not None and rec is not None and (rec["best"] is None or drill_score > rec["best"]):
        rec["best"] = drill_score
        rec["from_drill"] = True
        if rec["mean"] is None:
            rec["mean"] = float(drill_score)
    pct = overall_percent(summary, session)
    grade, label = grade_for(pct)
    return SessionScore(
        overall=pct,
        grade=grade,
        grade_label=label,
        criteria=summary,
        drill_score=drill_score,
        penalty=BAD_OUTCOME_PENALTY if pct is not None and session.outcome in BAD_OUTCOMES else 0.0,
        judges=sorted({x.judge for t in session.turns for x in t.assessments[:1]}),
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        weights_version=weights_version,
    )
