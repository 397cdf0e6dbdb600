"""The feedback report: what the session shows about each criterion, quoted and grounded.

``build_report`` returns one typed :class:`simulator.report_model.Report`, built from the
session's stored score (the grade and every per-criterion figure are copied from it, never
recomputed); ``report_render`` lays it out as HTML, print and Markdown, and the CLI's JSON is
its ``model_dump``. Scores that could not be judged stay unscored: they are counted apart
and never averaged in as zeros.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from simulator.models import (
    SCENARIO_LABELS,
    CriterionId,
    Outcome,
    Persona,
    Rubric,
    ScenarioId,
    Session,
    outcome_label,
)
from simulator.report_model import (
    AlsoCriterion,
    BreakdownRow,
    CriterionRow,
    EndingItem,
    Finding,
    GradeBreakdown,
    PersonaInfo,
    Report,
    RubricInfo,
    SceneCheck,
    TraineeInfo,
    TurnCriterion,
    TurnReport,
)
from simulator.scoring.session import (
    SessionScore,
    criterion_summary,
    grade_for,
    not_applicable,
    overall_percent,
    score_session,
)

__all__ = ["Report", "build_report", "grade_for", "criterion_summary", "overall_percent", "score_session"]

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


def _better_for(
    session: Session, persona: Persona, rubric: Rubric, cids: list[CriterionId], turn_index: int
) -> str:
    """One better reply for that moment: to the demand the client was pressing then (the
    persona's own model reply to it), with what each criterion of the moment adds; the
    rubric's phrasing for the scenario when the persona has none."""
    from simulator import dialogue
    from simulator.director import initial_state

    before = session.turns[turn_index - 2].state if turn_index >= 2 else initial_state(persona)
    turn = session.turns[turn_index - 1] if 1 <= turn_index <= len(session.turns) else None
    a = turn.assessment if turn is not None else None
    if a is not None and a.pressed is False and cids[0] is CriterionId.calm:
        # the client pressed nothing in that line: answer the line, not a demand not yet voiced
        # (a concession offered unasked still gets the reply to the demand it gave)
        return _better_phrasing(rubric, cids[0], turn_index, session.scenario)
    pending = dialogue.pending(before)
    demand = next((d for d in persona.demands if d.id == pending), None)
    reply = demand.model_reply if demand is not None else None
    if not reply:
        return _better_phrasing(rubric, cids[0], turn_index, session.scenario)
    for cid in cids:
        add = _ADD.get(cid)
        if add and add[0] not in reply:
            reply = f"{reply}{add[1]}"
    return reply


def _breakdown(score: SessionScore, summary: dict[str, dict[str, Any]]) -> GradeBreakdown:
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
            else f"最もよいターン {s['best']}" if s["best"] is not None
            else "対象のターンなし（要求を迫られた返答がない）" if s.get("not_applicable")
            else "採点不能"
        )  # fmt: skip
        if every and s.get("not_applicable") and s["mean"] is not None:
            basis += f"。要求を迫られていない{s['not_applicable']}ターンは対象外"
        if s.get("from_drill"):
            basis = f"報告ドリル {s['best']} / 3（返答の最高より高いため）"
        rows.append(
            BreakdownRow(
                criterion=cid,
                label=s["label"],
                basis=basis,
                percent=pct,
                weight=s["weight"],
                share=None if pct is None else round(s["weight"] * pct / total_w, 1),
            )
        )
    before = round(sum(r.share for r in rows if r.share is not None), 1)
    return GradeBreakdown(rows=rows, before_penalty=before, penalty=score.penalty, overall=score.overall)


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _manual_ref(rubric: Rubric, cid: CriterionId) -> str:
    return rubric.criterion(cid).manual_quotes[0]


JST = timezone(timedelta(hours=9), "JST")


def _when(t: datetime | None) -> str:
    return "" if t is None else t.astimezone(JST).strftime("%Y年%m月%d日 %H:%M")


_RANK = {True: 2, False: 1, None: 0}


def _scene_checks(session: Session, persona: Persona, rubric: Rubric) -> dict[str, SceneCheck]:
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
    return {k: SceneCheck(**v) for k, v in out.items()}


_PRIORITY = {
    ("firm", "violation"): 100,
    ("calm", "violation"): 90,
    ("firm", "weak"): 50,
    ("calm", "weak"): 40,
}


def trainee_reason(reason: str, source: str) -> str:
    """The reason a trainee reads: the learned model's verdict without its confidence, similar
    examples and the rules' reading (those are for trainers, in ``TurnCriterion.detail``)."""
    if source != "model":
        return reason
    head = re.split(r"（確信度|。似た判定例|。ルールの読み", reason, maxsplit=1)[0]
    return head.rstrip("。") + "。"


def _ending(session: Session, persona: Persona) -> list[EndingItem]:
    """Where each demand stood when the session ended: what the client walks away believing."""
    state = session.state
    names = {d.id: d.text for d in persona.demands}
    out = []
    for st in state.demands:
        label = names.get(st.id, st.id)
        gave = [e for e in state.gave if e.demand == st.id]
        first = gave[0] if gave else None
        if st.status == "conceded":
            quote = first.text if first else ""
            at = first.turn if first else st.turn
            said = f"「{_clip(quote, 40)}」" if quote else ""
            out.append(
                EndingItem(
                    demand=st.id,
                    label=label,
                    status="open",
                    turn=at,
                    quote=quote,
                    statement=(
                        f"「{label}」に応じたまま終わりました（ターン{at}{said}）。"
                        "相手はこの約束が生きていると考えています。撤回するときは上長と相談し、会社として書面で伝えましょう。"
                    ),
                )
            )
        elif st.status == "refused" and first is not None and st.turn > first.turn:
            out.append(
                EndingItem(
                    demand=st.id,
                    label=label,
                    status="retracted",
                    turn=st.turn,
                    quote=first.text,
                    statement=(
                        f"「{label}」に一度応じ（ターン{first.turn}）、ターン{st.turn}で撤回しました。"
                        "撤回は正しい判断ですが、相手は一度約束されたと受け取っています。記録に残し、上長に報告しましょう。"
                    ),
                )
            )
        elif st.status == "refused":
            out.append(
                EndingItem(
                    demand=st.id,
                    label=label,
                    status="refused",
                    turn=st.turn,
                    statement=f"「{label}」ははっきり断ったまま終わりました（ターン{st.turn}）。",
                )
            )
        elif st.status == "deferred":
            out.append(
                EndingItem(
                    demand=st.id,
                    label=label,
                    status="deferred",
                    turn=st.turn,
                    statement=(
                        f"「{label}」は回答を保留したまま終わりました（ターン{st.turn}）。"
                        "相手は回答を待っています。誰が・いつ・会社として回答するかを伝えましょう。"
                    ),
                )
            )
        elif st.made_turn < len(session.turns) and session.outcome is Outcome.escalated:
            out.append(
                EndingItem(
                    demand=st.id,
                    label=label,
                    status="deferred",
                    statement=(
                        f"「{label}」は、会社としての回答に引き継いで終わりました。"
                        "相手は会社からの連絡を待っています。上長への報告と記録を忘れずに。"
                    ),
                )
            )
        elif st.made_turn < len(session.turns):
            out.append(
                EndingItem(
                    demand=st.id,
                    label=label,
                    status="unanswered",
                    statement=f"「{label}」には、まだ断っても保留してもいないまま終わりました。",
                )
            )
    return out


def build_report(
    session: Session,
    persona: Persona,
    rubric: Rubric,
    score: SessionScore | None = None,
    trainee: dict[str, str] | None = None,
    overrides: list[dict[str, Any]] | None = None,
    machine: SessionScore | None = None,
) -> Report:
    """The report of one session; ``score`` is the session's stored score (computed here only
    when the session has none yet, e.g. while it is in progress). ``trainee`` ({name,
    department}) names whose session it is, so that a printed report can be filed."""
    if score is None:
        score = score_session(session, rubric)
    summary = score.criteria
    # trainers' overrides (the session given already carries them): who, and what the machine said
    reviewed = {(o["turn_idx"], o["criterion"]): o for o in overrides or []}

    turns: list[TurnReport] = []
    raw: list[Finding] = []
    moments: dict[tuple[str, str], Finding] = {}  # (criterion, moment title) → its first turn
    for t in session.turns:
        a = t.assessment
        crit: dict[str, TurnCriterion] = {}
        if a is not None:
            for criterion in rubric.criteria:
                cid = criterion.id
                cs = a.scores.get(cid)
                if cs is None:
                    continue
                applicable = not (criterion.applies == "when_pressed" and not_applicable(a, cid))
                crit[cid.value] = TurnCriterion(
                    label=criterion.label,
                    score=cs.score,
                    reason=trainee_reason(cs.reason, cs.source),
                    detail=cs.reason,
                    evidence=[e.text for e in cs.evidence],
                    manual_ref=cs.manual_ref or _manual_ref(rubric, cid),
                    source=cs.source,
                    confidence=cs.confidence,
                    applicable=applicable,
                    reviewed_by=(o := reviewed.get((t.index, cid.value), {})).get("reviewer_name", ""),
                    machine_score=o.get("machine_score") if o else None,
                )
                weak = cs.score is not None and cs.score <= WEAK and applicable
                # contract/record/escalation are not expected on every turn: only calm
                # and firm shortfalls, and violations, are findings per turn. Each kind of
                # moment is shown once, at its first turn, with the later turns it recurred in.
                if cs.score == 0 or (weak and criterion.aggregate == "every_turn"):
                    kind = "violation" if cs.score == 0 else "weak"
                    title = _moment_title(cid, kind, a)  # panic and hitting back are two moments
                    seen = moments.get((cid.value, title))
                    if seen is not None:
                        seen.also_turns.append(t.index)
                        continue
                    moments[(cid.value, title)] = finding = Finding(
                        turn=t.index,
                        criterion=cid.value,
                        label=criterion.label,
                        moment=title,
                        score=cs.score,
                        quote=t.trainee,
                        client=t.client_before,
                        reason=trainee_reason(cs.reason, cs.source),
                        evidence=[e.text for e in cs.evidence],
                        manual_ref=cs.manual_ref or _manual_ref(rubric, cid),
                        priority=_PRIORITY.get((cid.value, kind), 30),
                    )
                    raw.append(finding)
        turns.append(
            TurnReport(
                index=t.index,
                client=t.client_before,
                trainee=t.trainee,
                reply=t.client_after or t.closing,
                criteria=crit,
                checks=list(a.checks) if a else [],
                pressure=t.state.pressure,
                reaction=t.state.reaction.value if t.state.reaction else None,
                notices=list(t.notices),
                review_flag=t.review_flag,
                judges=[x.judge for x in t.assessments],
            )
        )

    # Scene-level findings: a criterion needed once that the session never showed.
    for crit_ in (c for c in rubric.criteria if c.aggregate == "once"):
        cid = crit_.id
        s = summary[cid.value]
        if s["scored"] and (s["best"] or 0) <= 1 and not s.get("from_drill"):
            # the missed chance: the turn the client pressed hardest (first reached)
            chance = max(session.turns, key=lambda t: (t.state.pressure, -t.index), default=None)
            raw.append(
                Finding(
                    turn=chance.index if chance else None,
                    criterion=cid.value,
                    label=crit_.label,
                    moment=f"{crit_.label}を示す機会を逃した",
                    score=s["best"],
                    quote=chance.trainee if chance else "",
                    client=chance.client_before if chance else "",
                    reason=crit_.feedback.improve[0],
                    manual_ref=_manual_ref(rubric, cid),
                    missed=True,
                    priority=60 + int(10 * s["weight"]),
                )
            )

    findings = _one_per_moment(raw, session, persona, rubric)
    practise = _practise_next(session, rubric, summary, raw)
    praise = [
        f"{c.label}: {c.feedback.praise[0]}"
        for c in rubric.criteria
        if (summary[c.id.value]["best"] or 0) >= 3 and summary[c.id.value]["violations"] == 0
    ]
    owner = trainee or {}
    return Report(
        session_id=session.id,
        trainee=TraineeInfo(name=owner.get("name", ""), department=owner.get("department", "")),
        started_at=_when(session.created_at),
        ended_at=_when(session.ended_at),
        persona=PersonaInfo(
            id=persona.id,
            version=persona.version,
            title=persona.title,
            client=f"{persona.client.company} {persona.client.role} {persona.client.name}",
            scenario=persona.scenario.value,
            scenario_label=SCENARIO_LABELS[persona.scenario],
            difficulty=persona.difficulty_label,
            channel=persona.channel,
            manual_section=persona.manual_passage.section,
            manual_quote=persona.manual_passage.quote,
        ),
        rubric=RubricInfo(id=score.rubric_id, version=score.rubric_version),
        judges=sorted({x.judge for t in session.turns for x in t.assessments}),
        opening=session.opening,
        outcome=session.outcome.value,
        outcome_label=outcome_label(session.outcome, persona.channel),
        ending_reason=session.state.ending_reason,
        turn_count=len(session.turns),
        elapsed_minutes=session.state.elapsed_minutes,
        demands_granted=list(session.state.demands_granted),
        overall=score.overall,
        grade=score.grade,
        grade_label=score.grade_label,
        score_rule=score.rule,
        score_rule_version=score.rule_version,
        weights_version=score.weights_version,
        grade_breakdown=_breakdown(score, summary),
        drill_score=score.drill_score,
        reviewed=bool(reviewed),
        machine_overall=machine.overall if machine is not None and reviewed else None,
        machine_grade=machine.grade if machine is not None and reviewed else "",
        criteria={k: CriterionRow.model_validate(_row(v)) for k, v in summary.items()},
        turns=turns,
        findings=findings,
        checks=_scene_checks(session, persona, rubric),
        ending=_ending(session, persona),
        praise=praise,
        practise_next=practise,
    )


_ROW_KEYS = set(CriterionRow.model_fields)


def _row(s: dict[str, Any]) -> dict[str, Any]:
    """A stored criterion summary as a report row (a score stored before a field existed
    lacks it: its default applies)."""
    return {k: v for k, v in s.items() if k in _ROW_KEYS}


def _one_per_moment(raw: list[Finding], session: Session, persona: Persona, rubric: Rubric) -> list[Finding]:
    """The moments most important first (a concession, then lost composure, then a missed
    chance to record or escalate, then what was only weak), one card per turn: a second
    shortfall in the same reply is told inside the first, and the better phrasing covers both."""
    out: list[Finding] = []
    by_turn: dict[int, Finding] = {}
    for f in sorted(raw, key=lambda f: (-f.priority, f.turn or 0)):
        host = by_turn.get(f.turn) if f.turn is not None else None
        if host is not None:
            host.also_criteria.append(
                AlsoCriterion(criterion=f.criterion, label=f.label, score=f.score, reason=f.reason)
            )
            continue
        out.append(f)
        if f.turn is not None:
            by_turn[f.turn] = f
    for f in out:
        cids = [CriterionId(f.criterion)] + [CriterionId(x.criterion) for x in f.also_criteria]
        f.better = _better_for(session, persona, rubric, cids, f.turn or 0)
    return out


def _advice(rubric: Rubric, cid: CriterionId, own: Finding | None) -> str:
    """The rubric's advice that fits what the trainee did: the first line speaks to a
    violation (giving in, hitting back), the second to what was only missing; for 冷静, the
    third to panic (「動揺して押し切られそう」)."""
    improve = rubric.criterion(cid).feedback.improve
    if own is None or own.missed or own.score == 0:
        if cid is CriterionId.calm and own is not None and own.moment.startswith("動揺") and len(improve) > 2:
            return improve[2]
        return improve[0]
    return improve[1] if len(improve) > 1 else improve[0]


def _practise_next(
    session: Session, rubric: Rubric, summary: dict[str, dict[str, Any]], raw: list[Finding]
) -> list[str]:
    """The trainee's own weakest criteria, each with their own words from this session."""
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
        met = 2.5 if s["aggregate"] == "every_turn" else 2  # a once-criterion shown (2) is met
        if value is not None and value >= met and s["violations"] == 0:
            continue
        own = next((f for f in raw if f.criterion == cid.value and f.quote), None)
        example = f"ターン{own.turn}の「{_clip(own.quote, 40)}」のような場面で、" if own and own.turn else ""
        practise.append(f"{rubric.criterion(cid).label}: {example}{_advice(rubric, cid, own)}")
    if session.state.demands_granted:
        own = next((f for f in raw if f.criterion == "firm" and f.score == 0 and f.quote), None)
        example = f"ターン{own.turn}の「{_clip(own.quote, 40)}」のように、" if own and own.turn else ""
        practise.insert(
            0,
            f"毅然: {example}不当な要求に一度でも応じると、相手は要求を広げます。最初の一言で明確に断りましょう。",
        )
    if not practise:
        practise.append(
            "すべての基準を満たしました。強硬な相手（難易度: 強硬）や別の場面でも試してみましょう。"
        )
    return practise
