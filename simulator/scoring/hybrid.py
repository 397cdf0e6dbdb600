"""The hybrid judge (the default): the rules' findings, overruled by the learned model where it is sure.

The rules give every score its reason and evidence. The model (``learned.py``) reads the
reply's wording as a whole; when it is confident of a violation the rules did not see
(most often a concession in words no pattern covers), it overrules the score and the reason
says so in Japanese, with the labelled replies nearest to this one. Every criterion carries
the model's calibrated confidence in the score it ends with, for trainers to see.
"""

from __future__ import annotations

from simulator.models import Assessment, ContextLine, CriterionId, CriterionScore, Rubric, ScenarioId
from simulator.scoring.learned import LearnedModel, Prediction
from simulator.scoring.rules import RuleJudge
from simulator.scoring.version import judge_id

LABEL_TO_SCORE = {-1: 0, 0: 1, 1: 2}

_VIOLATION_REASON = {
    CriterionId.firm: "表現の傾向から譲歩と判断しました",
    CriterionId.calm: "表現の傾向から冷静さを欠いた返答と判断しました",
}


def overrules(rule_score: int, p_violation: float, threshold: dict[str, float]) -> bool:
    """Whether the model's violation probability overrules the rules' score."""
    key = "against_evidence" if rule_score >= 2 else "no_evidence"
    return p_violation > float(threshold[key])


class HybridJudge:
    """Rules plus the learned model (``hybrid@<hash>``)."""

    def __init__(self, rules: RuleJudge, model: LearnedModel) -> None:
        self.rules = rules
        self.model = model
        self._ids: dict[tuple[str, int], str] = {}

    def id_for(self, rubric: Rubric) -> str:
        key = (rubric.id, rubric.version)
        got = self._ids.get(key)
        if got is None:
            got = self._ids[key] = judge_id("hybrid", rubric, self.model.file_sha256)
        return got

    @property
    def name(self) -> str:
        from simulator.library import get_rubric

        return self.id_for(get_rubric())

    def assess(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId | str, rubric: Rubric
    ) -> Assessment:
        a, analysis = self.rules.judge(reply, context, scenario, rubric)
        a.judge = self.id_for(rubric)
        if analysis is None or not any(cs.scored for cs in a.scores.values()):
            return a
        preds = self.model.predict(reply, analysis)
        policy = self.model.policy
        for cid_s, th in policy.get("violation_override", {}).items():
            cid = CriterionId(cid_s)
            cs = a.scores.get(cid)
            p = preds.get(cid_s)
            if cs is None or p is None or cs.score is None or cs.score == 0:
                continue
            if overrules(cs.score, p.probs.get(-1, 0.0), th):
                self._overrule_to_violation(a, cid, cs, p, reply)
        for cid, cs in a.scores.items():
            p = preds.get(cid.value)
            if p is not None and cs.score is not None:
                label = {0: -1, 1: 0, 2: 1, 3: 1}[cs.score]
                cs.confidence = round(p.probs.get(label, 0.0), 3)
        return a

    def _overrule_to_violation(
        self, a: Assessment, cid: CriterionId, cs: CriterionScore, p: Prediction, reply: str
    ) -> None:
        like = self.model.nearest(reply, cid.value, -1)
        examples = "・".join(f"「{x}」" for x in like)
        reason = (
            f"{_VIOLATION_REASON.get(cid, '表現の傾向から違反と判断しました')}（確信度 {p.probs[-1]:.0%}）"
        )
        if examples:
            reason += f"。似た判定例: {examples}"
        reason += f"。ルールの読み: {cs.reason}"
        a.scores[cid] = CriterionScore(
            criterion=cid,
            reason=reason,
            score=0,
            evidence=[],
            manual_ref=cs.manual_ref,
            source="model",
            confidence=round(p.probs[-1], 3),
        )
        if cid is CriterionId.firm:
            a.concession = True
            # a contract mentioned only to give in asserts nothing (LABELING.md)
            con = a.scores.get(CriterionId.contract)
            if con is not None and con.score is not None and con.score >= 2:
                con.score = 1
                con.reason = f"契約に触れていますが、譲歩しているため主張になっていません（{con.reason}）"
