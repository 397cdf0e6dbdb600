"""The feedback report: what the session shows about each criterion, quoted and grounded.

``build_report`` returns plain data (used by the CLI's JSON, the HTML/Markdown templates
and the app). Scores that could not be judged stay unscored: they are counted apart and
never averaged in as zeros.
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from simulator.models import (
    CRITERIA,
    CRITERION_LABELS,
    OUTCOME_LABELS,
    SCENARIO_LABELS,
    CriterionId,
    Outcome,
    Persona,
    Rubric,
    ScenarioId,
    Session,
)

GRADES = ((85.0, "A", "模範的"), (70.0, "B", "良好"), (50.0, "C", "要練習"), (0.0, "D", "要再受講"))
WEAK = 1  # a turn score at or below this is a finding worth a better phrasing
BAD_OUTCOMES = (Outcome.client_left, Outcome.max_turns)


def grade_for(percent: float | None) -> tuple[str, str]:
    if percent is None:
        return "—", "採点できませんでした"
    for floor, g, label in GRADES:
        if percent >= floor:
            return g, label
    return "D", "要再受講"


def criterion_summary(session: Session, rubric: Rubric) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    weights = rubric.weights[session.scenario]
    for cid in CRITERIA:
        vals = [a.score(cid) for t in session.turns if (a := t.assessment) is not None]
        scored = [v for v in vals if v is not None]
        # The best a reply reached shows the trainee CAN do it; the mean shows consistency.
        out[cid.value] = {
            "label": CRITERION_LABELS[cid],
            "mean": round(mean(scored), 2) if scored else None,
            "credit": mean(STEADY_CREDIT[v] for v in scored) if scored else None,
            "best": max(scored) if scored else None,
            "violations": sum(1 for v in scored if v == 0),
            "scored": len(scored),
            "unscored": len(vals) - len(scored),
            "weight": weights[cid],
        }
    return out


# How much a score is worth in the overall figure. The rubric's 2 ("partly shown") already
# meets the criterion in LABELING.md's terms, so it earns most of the credit; 1 on calm or
# firm (neither shown nor violated) earns some; a violation earns nothing.
STEADY_CREDIT = {0: 0.0, 1: 0.4, 2: 0.85, 3: 1.0}
ONCE_CREDIT = {0: 0.0, 1: 0.0, 2: 0.85, 3: 1.0}


def overall_percent(summary: dict[str, dict[str, Any]], session: Session) -> float | None:
    """Weighted mean over criteria of a 0-100 figure per criterion.

    Calm and firm must hold on every turn, so they count by the mean credit of their turns
    (any violation costs); contract, record and escalation are things to do at least once in
    a scene, so they count by their best turn.
    """
    total = 0.0
    weight = 0.0
    for cid in CRITERIA:
        s = summary[cid.value]
        if s["mean"] is None:
            continue
        value = s["credit"] if cid in (CriterionId.calm, CriterionId.firm) else ONCE_CREDIT[s["best"]]
        total += s["weight"] * value * 100.0
        weight += s["weight"]
    if weight == 0:
        return None
    pct = total / weight
    if session.outcome in BAD_OUTCOMES:
        pct -= 5.0
    return round(max(0.0, min(100.0, pct)), 1)


def _better_phrasing(rubric: Rubric, cid: CriterionId, turn_index: int, scenario: ScenarioId) -> str:
    """A model phrasing for this criterion, the scenario's own first (a 20-minute phone rule
    is no help in a sexual-harassment scene)."""
    fb = rubric.criterion(cid).feedback
    phr = fb.scenario_phrasings.get(scenario) or fb.model_phrasings
    return phr[turn_index % len(phr)]


def _manual_ref(rubric: Rubric, cid: CriterionId) -> str:
    return rubric.criterion(cid).manual_quotes[0]


def build_report(session: Session, persona: Persona, rubric: Rubric) -> dict[str, Any]:
    summary = criterion_summary(session, rubric)
    pct = overall_percent(summary, session)
    grade, grade_label = grade_for(pct)

    turns: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for t in session.turns:
        a = t.assessment
        crit: dict[str, Any] = {}
        if a is not None:
            for cid in CRITERIA:
                cs = a.scores.get(cid)
                if cs is None:
                    continue
                crit[cid.value] = {
                    "label": CRITERION_LABELS[cid],
                    "score": cs.score,
                    "reason": cs.reason,
                    "evidence": [e.text for e in cs.evidence],
                    "manual_ref": cs.manual_ref or _manual_ref(rubric, cid),
                }
                weak = cs.score is not None and cs.score <= WEAK
                # contract/record/escalation are not expected on every turn: only calm
                # and firm shortfalls, and violations, are findings per turn.
                if cs.score == 0 or (weak and cid in (CriterionId.calm, CriterionId.firm)):
                    findings.append(
                        {
                            "turn": t.index,
                            "criterion": cid.value,
                            "label": CRITERION_LABELS[cid],
                            "score": cs.score,
                            "quote": t.trainee,
                            "client": t.client_before,
                            "reason": cs.reason,
                            "evidence": [e.text for e in cs.evidence],
                            "manual_ref": cs.manual_ref or _manual_ref(rubric, cid),
                            "better": _better_phrasing(rubric, cid, t.index, session.scenario),
                        }
                    )
        turns.append(
            {
                "index": t.index,
                "client": t.client_before,
                "trainee": t.trainee,
                "reply": t.client_after or t.closing,
                "criteria": crit,
                "checks": [c.model_dump(mode="json") for c in (a.checks if a else [])],
                "pressure": t.state.pressure,
                "reaction": t.state.reaction.value if t.state.reaction else None,
                "notices": t.notices,
                "review_flag": t.review_flag,
                "judges": [x.judge for x in t.assessments],
            }
        )

    # Scene-level findings: criteria that never appeared at all.
    missing = []
    for cid in (CriterionId.contract, CriterionId.record, CriterionId.escalation):
        s = summary[cid.value]
        if s["scored"] and (s["best"] or 0) <= 1:
            missing.append(cid)
            findings.append(
                {
                    "turn": None,
                    "criterion": cid.value,
                    "label": CRITERION_LABELS[cid],
                    "score": s["best"],
                    "quote": "",
                    "client": "",
                    "reason": rubric.criterion(cid).feedback.improve[0],
                    "evidence": [],
                    "manual_ref": _manual_ref(rubric, cid),
                    "better": _better_phrasing(rubric, cid, 0, session.scenario),
                }
            )

    checks: dict[str, dict[str, Any]] = {}
    for t in session.turns:
        a = t.assessment
        for c in a.checks if a else []:
            prev = checks.get(c.id)
            if prev is None or (c.passed and not prev["passed"]):
                checks[c.id] = {"label": c.label, "passed": c.passed, "reason": c.reason, "turn": t.index}

    ranked = sorted(
        (cid for cid in CRITERIA if summary[cid.value]["mean"] is not None),
        key=lambda c: (
            summary[c.value]["violations"] == 0,
            (
                summary[c.value]["mean"]
                if c in (CriterionId.calm, CriterionId.firm)
                else summary[c.value]["best"]
            ),
            -summary[c.value]["weight"],
        ),
    )
    practise = []
    for cid in ranked[:2]:
        s = summary[cid.value]
        value = s["mean"] if cid in (CriterionId.calm, CriterionId.firm) else s["best"]
        if value is not None and value >= 2.5 and s["violations"] == 0:
            continue
        practise.append(f"{CRITERION_LABELS[cid]}: {rubric.criterion(cid).feedback.improve[0]}")
    if session.state.demands_granted:
        practise.insert(
            0, "毅然: 不当な要求に一度でも応じると、相手は要求を広げます。最初の一言で明確に断りましょう。"
        )
    if not practise:
        practise.append(
            "すべての基準を満たしました。強硬な相手（難易度: 強硬）や別の場面でも試してみましょう。"
        )

    praise = [
        f"{CRITERION_LABELS[cid]}: {rubric.criterion(cid).feedback.praise[0]}"
        for cid in CRITERIA
        if (summary[cid.value]["best"] or 0) >= 3 and summary[cid.value]["violations"] == 0
    ]

    return {
        "session_id": session.id,
        "persona": {
            "id": persona.id,
            "version": persona.version,
            "title": persona.title,
            "client": f"{persona.client.company} {persona.client.role} {persona.client.name}",
            "scenario": persona.scenario.value,
            "scenario_label": SCENARIO_LABELS[persona.scenario],
            "difficulty": persona.difficulty_label,
            "channel": persona.channel,
            "manual_section": persona.manual_passage.section,
            "manual_quote": persona.manual_passage.quote,
        },
        "rubric": {"id": rubric.id, "version": rubric.version},
        "judges": sorted({x.judge for t in session.turns for x in t.assessments}),
        "opening": session.opening,
        "outcome": session.outcome.value,
        "outcome_label": OUTCOME_LABELS[session.outcome],
        "ending_reason": session.state.ending_reason,
        "turn_count": len(session.turns),
        "elapsed_minutes": session.state.elapsed_minutes,
        "demands_granted": session.state.demands_granted,
        "overall": pct,
        "grade": grade,
        "grade_label": grade_label,
        "criteria": summary,
        "turns": turns,
        "findings": findings,
        "checks": checks,
        "praise": praise,
        "practise_next": practise,
    }
