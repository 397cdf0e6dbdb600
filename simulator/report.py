"""The feedback report: what the session shows about each criterion, quoted and grounded.

``build_report`` returns plain data (used by the CLI's JSON, the HTML/Markdown templates
and the app). Scores that could not be judged stay unscored: they are counted apart and
never averaged in as zeros.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from simulator.models import (
    SCENARIO_LABELS,
    CriterionId,
    Persona,
    Rubric,
    ScenarioId,
    Session,
    outcome_label,
)
from simulator.scoring.session import (
    SessionScore,
    criterion_summary,
    grade_for,
    overall_percent,
    score_session,
)

__all__ = ["build_report", "grade_for", "criterion_summary", "overall_percent", "score_session"]

WEAK = 1  # a turn score at or below this is a finding worth a better phrasing


def _better_phrasing(rubric: Rubric, cid: CriterionId, turn_index: int, scenario: ScenarioId) -> str:
    """A model phrasing for this criterion, the scenario's own first (a 20-minute phone rule
    is no help in a sexual-harassment scene)."""
    fb = rubric.criterion(cid).feedback
    phr = fb.scenario_phrasings.get(scenario) or fb.model_phrasings
    return phr[turn_index % len(phr)]


_MOMENTS = {
    ("firm", "violation"): "最初に譲歩した場面",
    ("firm", "weak"): "はっきり断らなかった場面",
    ("calm", "weak"): "受け止めの一言がなかった場面",
}
# what a better reply adds for the criteria a demand's model reply may leave out
_ADD = {
    CriterionId.record: ("記録", "本日のお話は記録に残し、社内で共有いたします。"),
    CriterionId.escalation: ("上長", "この件は上長に報告し、改めて会社としてご連絡いたします。"),
    CriterionId.contract: ("契約", "ご契約の範囲に基づいてご対応いたします。"),
}


def _moment_title(cid: CriterionId, kind: str, a: Any) -> str:
    if cid is CriterionId.calm and kind == "violation":
        return (
            "冷静さを失って言い返した場面"
            if a is not None and a.hostile
            else "動揺して押し切られそうになった場面"
        )
    return _MOMENTS.get((cid.value, kind), f"{cid.value}が不足した場面")


def _better_for(session: Session, persona: Persona, rubric: Rubric, cid: CriterionId, turn_index: int) -> str:
    """One better reply for that moment: to the demand the client was pressing then (the
    persona's own model reply to it), with what this criterion adds; the rubric's phrasing
    for the scenario when the persona has none."""
    from simulator import dialogue
    from simulator.director import initial_state

    before = session.turns[turn_index - 2].state if turn_index >= 2 else initial_state(persona)
    pending = dialogue.pending(before)
    demand = next((d for d in persona.demands if d.id == pending), None)
    reply = demand.model_reply if demand is not None else None
    if not reply:
        return _better_phrasing(rubric, cid, turn_index, session.scenario)
    add = _ADD.get(cid)
    if add and add[0] not in reply:
        reply = f"{reply}{add[1]}"
    return reply


def _breakdown(score: SessionScore, summary: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How the grade was reached, criterion by criterion: what counted (the mean of every turn,
    or the best turn), its 0-100 achievement, the scenario's weight and its share of the total,
    the drill's part and the penalty. The shares add up to the figure before the penalty."""
    rows = []
    counted = [s for s in summary.values() if s.get("percent") is not None]
    total_w = sum(s["weight"] for s in counted) or 1.0
    for cid, s in summary.items():
        pct = s.get("percent")
        every = s["aggregate"] == "every_turn"
        basis = (
            f"各ターンの達成度の平均（平均点 {s['mean']:.2f}; 3=100, 2=85, 1=40, 0=0 に換算して平均）"
            if every and s["mean"] is not None
            else f"最もよいターン {s['best']}" if s["best"] is not None else "採点不能"
        )  # fmt: skip
        if s.get("from_drill"):
            basis = f"報告ドリル {s['best']} / 3（返答の最高より高いため）"
        rows.append(
            {
                "criterion": cid,
                "label": s["label"],
                "basis": basis,
                "percent": pct,
                "weight": s["weight"],
                "share": None if pct is None else round(s["weight"] * pct / total_w, 1),
            }
        )
    before = round(sum(r["share"] for r in rows if r["share"] is not None), 1)
    return {"rows": rows, "before_penalty": before, "penalty": score.penalty, "overall": score.overall}


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _manual_ref(rubric: Rubric, cid: CriterionId) -> str:
    return rubric.criterion(cid).manual_quotes[0]


JST = timezone(timedelta(hours=9), "JST")


def _when(t: datetime | None) -> str:
    return "" if t is None else t.astimezone(JST).strftime("%Y年%m月%d日 %H:%M")


_RANK = {True: 2, False: 1, None: 0}


def _scene_checks(session: Session, persona: Persona, rubric: Rubric) -> dict[str, dict[str, Any]]:
    """Each scenario check once, as a statement of what the trainee did, with the turn and,
    on the phone, the simulated time: 「「20分を目安に」と伝えた（ターン6、模擬経過24分）」.
    A check counts as needed from the turn the client's words called for it, or (the time
    check) from the turn the simulated clock passed the rubric's limit."""
    limits = {c.id: c.time_limit_minutes for c in rubric.checks_for(session.scenario)}
    clock = persona.minutes_per_turn > 0
    out: dict[str, dict[str, Any]] = {}
    for t in session.turns:
        a = t.assessment
        for chk in a.checks if a else []:
            limit = limits.get(chk.id)
            status = chk.passed
            if status is None and clock and limit is not None and t.state.elapsed_minutes >= limit:
                status = False
            prev = out.get(chk.id)
            if prev is None or _RANK[status] > _RANK[prev["passed"]]:
                out[chk.id] = {
                    "label": chk.label,
                    "passed": status,
                    "reason": chk.reason,
                    "turn": t.index,
                    "elapsed": t.state.elapsed_minutes if clock else None,
                    "evidence": chk.evidence,
                }
    for c in out.values():
        when = f"ターン{c['turn']}" + (f"、模擬経過{c['elapsed']:.0f}分" if c["elapsed"] is not None else "")
        if c["passed"]:
            said = f"「{c['evidence']}」と伝えた" if c["evidence"] else "伝えた"
            c["statement"] = f"{said}（{when}）"
        elif c["passed"] is False:
            c["statement"] = f"伝えていない（必要になったのは{when}）"
        else:
            c["statement"] = "この場面では必要になりませんでした"
    return out


def build_report(
    session: Session,
    persona: Persona,
    rubric: Rubric,
    score: SessionScore | None = None,
    trainee: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The report's data; ``score`` is the session's stored score (computed here only when
    the session has none yet, e.g. while it is in progress). ``trainee`` ({name, department})
    names whose session it is, so that a printed report can be filed."""
    if score is None:
        score = score_session(session, rubric)
    summary = score.criteria
    pct = score.overall
    grade, grade_label = score.grade, score.grade_label

    turns: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    moments: dict[tuple[str, str], dict[str, Any]] = {}
    for t in session.turns:
        a = t.assessment
        crit: dict[str, Any] = {}
        if a is not None:
            for criterion in rubric.criteria:
                cid = criterion.id
                cs = a.scores.get(cid)
                if cs is None:
                    continue
                crit[cid.value] = {
                    "label": rubric.criterion(cid).label,
                    "score": cs.score,
                    "reason": cs.reason,
                    "evidence": [e.text for e in cs.evidence],
                    "manual_ref": cs.manual_ref or _manual_ref(rubric, cid),
                    "source": cs.source,
                    "confidence": cs.confidence,
                }
                weak = cs.score is not None and cs.score <= WEAK
                # contract/record/escalation are not expected on every turn: only calm
                # and firm shortfalls, and violations, are findings per turn. Each kind of
                # moment is shown once, at its first turn, with the later turns it recurred in.
                if cs.score == 0 or (weak and criterion.aggregate == "every_turn"):
                    kind = "violation" if cs.score == 0 else "weak"
                    seen = moments.get((cid.value, kind))
                    if seen is not None:
                        seen["also_turns"].append(t.index)
                        continue
                    moments[(cid.value, kind)] = finding = {
                        "turn": t.index,
                        "criterion": cid.value,
                        "label": rubric.criterion(cid).label,
                        "moment": _moment_title(cid, kind, a),
                        "score": cs.score,
                        "quote": t.trainee,
                        "client": t.client_before,
                        "reason": cs.reason,
                        "evidence": [e.text for e in cs.evidence],
                        "manual_ref": cs.manual_ref or _manual_ref(rubric, cid),
                        "better": _better_for(session, persona, rubric, cid, t.index),
                        "also_turns": [],
                    }
                    findings.append(finding)
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
    for cid in (c.id for c in rubric.criteria if c.aggregate == "once"):
        s = summary[cid.value]
        if s["scored"] and (s["best"] or 0) <= 1 and not s.get("from_drill"):
            missing.append(cid)
            # the missed chance: the turn the client pressed hardest (first reached)
            chance = max(session.turns, key=lambda t: (t.state.pressure, -t.index), default=None)
            findings.append(
                {
                    "turn": chance.index if chance else None,
                    "criterion": cid.value,
                    "label": rubric.criterion(cid).label,
                    "moment": f"{rubric.criterion(cid).label}を示す機会を逃した",
                    "score": s["best"],
                    "quote": chance.trainee if chance else "",
                    "client": chance.client_before if chance else "",
                    "reason": rubric.criterion(cid).feedback.improve[0],
                    "evidence": [],
                    "manual_ref": _manual_ref(rubric, cid),
                    "better": _better_for(session, persona, rubric, cid, chance.index if chance else 0),
                    "also_turns": [],
                    "missed": True,
                }
            )

    checks = _scene_checks(session, persona, rubric)

    ranked = sorted(
        (c.id for c in rubric.criteria if summary[c.id.value]["mean"] is not None),
        key=lambda c: (
            summary[c.value]["violations"] == 0,
            (
                summary[c.value]["mean"]
                if summary[c.value]["aggregate"] == "every_turn"
                else summary[c.value]["best"]
            ),
            -summary[c.value]["weight"],
        ),
    )
    practise = []
    for cid in [c for c in ranked if not (c is CriterionId.firm and session.state.demands_granted)][:2]:
        s = summary[cid.value]
        value = s["mean"] if s["aggregate"] == "every_turn" else s["best"]
        if value is not None and value >= 2.5 and s["violations"] == 0:
            continue
        own = next((f for f in findings if f["criterion"] == cid.value and f.get("quote")), None)
        example = (
            f"ターン{own['turn']}の「{_clip(own['quote'], 40)}」のような場面で、"
            if own and own.get("turn")
            else ""
        )
        practise.append(
            f"{rubric.criterion(cid).label}: {example}{rubric.criterion(cid).feedback.improve[0]}"
        )
    if session.state.demands_granted:
        practise.insert(
            0, "毅然: 不当な要求に一度でも応じると、相手は要求を広げます。最初の一言で明確に断りましょう。"
        )
    if not practise:
        practise.append(
            "すべての基準を満たしました。強硬な相手（難易度: 強硬）や別の場面でも試してみましょう。"
        )

    praise = [
        f"{rubric.criterion(cid).label}: {rubric.criterion(cid).feedback.praise[0]}"
        for cid in (c.id for c in rubric.criteria)
        if (summary[cid.value]["best"] or 0) >= 3 and summary[cid.value]["violations"] == 0
    ]

    return {
        "session_id": session.id,
        "trainee": {
            "name": (trainee or {}).get("name", ""),
            "department": (trainee or {}).get("department", ""),
        },
        "started_at": _when(session.created_at),
        "ended_at": _when(session.ended_at),
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
        "outcome_label": outcome_label(session.outcome, persona.channel),
        "ending_reason": session.state.ending_reason,
        "turn_count": len(session.turns),
        "elapsed_minutes": session.state.elapsed_minutes,
        "demands_granted": session.state.demands_granted,
        "overall": pct,
        "grade": grade,
        "grade_label": grade_label,
        "score_rule": score.rule,
        "grade_breakdown": _breakdown(score, summary),
        "drill_score": score.drill_score,
        "criteria": summary,
        "turns": turns,
        "findings": findings,
        "checks": checks,
        "praise": praise,
        "practise_next": practise,
    }
