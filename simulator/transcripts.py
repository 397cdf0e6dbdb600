"""A session as JSON and as text: what ``simulate`` prints and ``simulate --scripts`` writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.models import Persona, Rubric, Session, Turn


def _turn_json(t: Turn) -> dict[str, Any]:
    a = t.assessment
    return {
        "index": t.index,
        "trainee": t.trainee,
        "scores": a.score_map() if a else {},
        "reaction": t.state.reaction.value if t.state.reaction else None,
        "state": t.state.model_dump(mode="json", exclude={"reaction"}),
        "client": t.client_after,
        "closing": t.closing,
        "voice": t.voice,
        "notices": t.notices,
        "review_flag": t.review_flag,
        "assessments": [x.model_dump(mode="json") for x in t.assessments],
    }


def session_json(session: Session, persona: Persona, rubric: Rubric) -> dict[str, Any]:
    from simulator.report import build_report

    return {
        "persona": session.persona_id,
        "persona_version": session.persona_version,
        "rubric": f"{session.rubric_id}@{session.rubric_version}",
        "seed": session.seed,
        "voice": session.voice,
        "judge": session.judge,
        "opening": session.opening,
        "turns": [_turn_json(t) for t in session.turns],
        "outcome": session.outcome.value,
        "ending_reason": session.state.ending_reason,
        "report": build_report(session, persona, rubric).model_dump(mode="json"),
    }


def fmt_scores(scores: dict[str, int | None]) -> str:
    from simulator.models import CRITERION_LABELS, CriterionId

    return "  ".join(
        f"{CRITERION_LABELS[CriterionId(k)]}:{'—' if v is None else v}" for k, v in scores.items()
    )


def transcript_text(data: dict[str, Any]) -> str:
    from simulator.models import OUTCOME_LABELS, Outcome

    out = [f"相手: {data['opening']}"]
    for t in data["turns"]:
        out.append(f"あなた: {t['trainee']}")
        out.append(f"  [{fmt_scores(t['scores'])}]  圧力 {t['state']['pressure']}")
        for n in t["notices"]:
            out.append(f"  ※ {n}")
        out.append(f"相手: {t['client'] or t['closing']}")
    out.append(f"結果: {OUTCOME_LABELS[Outcome(data['outcome'])]}")
    return "\n".join(out)
