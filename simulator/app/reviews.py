"""Trainers' overrides of machine scores: applied to a copy of the session for the reviewed
grade (the machine's scores stay as they were), and exported as labelled replies in the
format of docs/LABELING.md, so the judge's corpus grows from real use.
"""

from __future__ import annotations

from typing import Any

from simulator.models import CriterionId, Session
from simulator.store import Store

LABEL = {0: -1, 1: 0, 2: 1, 3: 1}  # a 0-3 score as the LABELING.md value


def apply_overrides(session: Session, overrides: list[dict[str, Any]]) -> Session:
    """A copy of the session whose primary assessments carry the reviewed scores."""
    s = session.model_copy(deep=True)
    for o in overrides:
        if not 1 <= o["turn_idx"] <= len(s.turns):
            continue
        a = s.turns[o["turn_idx"] - 1].assessment
        if a is None:
            continue
        cid = CriterionId(o["criterion"])
        cs = a.scores.get(cid)
        if cs is None:
            continue
        cs.reason = f"研修担当（{o.get('reviewer_name', '')}）の確認: {o['reason']}（機械の採点 {cs.score}）"
        cs.score = o["score"]
        if cid is CriterionId.firm:
            a.concession = o["score"] == 0
    return s


def labelled_records(store: Store) -> list[dict[str, Any]]:
    """One record per reviewed reply: the machine's labels with the trainers' in their place;
    ``reviewed`` lists the criteria a trainer decided (``eval --overrides`` measures those)."""
    by_turn: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for o in store.overrides():
        by_turn.setdefault((o["session_id"], o["turn_idx"]), []).append(o)
    out = []
    sessions: dict[str, Session] = {}
    for (sid, idx), ovs in sorted(by_turn.items()):
        session = sessions.get(sid) or store.load_session(sid)
        sessions[sid] = session
        if not 1 <= idx <= len(session.turns):
            continue
        turn = session.turns[idx - 1]
        a = turn.assessment
        if a is None:
            continue
        labels = {
            c.value: LABEL.get(cs.score, 0) if cs.score is not None else 0 for c, cs in a.scores.items()
        }
        for o in ovs:
            labels[o["criterion"]] = LABEL[o["score"]]
        context = [{"role": "client", "text": session.opening}]
        for earlier in session.turns[: idx - 1]:
            context.append({"role": "trainee", "text": earlier.trainee})
            if earlier.client_after:
                context.append({"role": "client", "text": earlier.client_after})
        out.append(
            {
                "id": f"v{sid[:8]}t{idx}",
                "scenario": session.scenario.value,
                "context": context,
                "reply": turn.trainee,
                "labels": labels,
                "reviewed": sorted(o["criterion"] for o in ovs),
                "note": "研修担当の確認: " + " / ".join(f"{o['criterion']}: {o['reason']}" for o in ovs),
            }
        )
    return out
