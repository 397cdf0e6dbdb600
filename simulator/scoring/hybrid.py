"""The hybrid judge (the default): the rules' findings, overruled by the learned model where it is sure.

The rules give every score its reason and evidence. The model (``learned.py``) reads the
reply's wording as a whole; when it predicts another label with a probability above the
threshold the model file sets for that criterion and that change (tuned on replies the
rules were never tuned on), it overrules the score, and the reason says so in Japanese,
with the labelled replies nearest to this one. Every criterion carries the model's
calibrated confidence in the label it ends with, for trainers to see.
"""

from __future__ import annotations

from simulator.models import Assessment, ContextLine, CriterionId, CriterionScore, Rubric, ScenarioId
from simulator.scoring.learned import LearnedModel, Prediction
from simulator.scoring.lexicon import Compiled, compiled_for
from simulator.scoring.rules import RuleJudge
from simulator.scoring.version import VersionedJudge

LABEL_TO_SCORE = {-1: 0, 0: 1, 1: 2}
SCORE_TO_LABEL = {0: -1, 1: 0, 2: 1, 3: 1}

_VIOLATION_REASON = {
    CriterionId.firm: "表現の傾向から譲歩と判断しました",
    CriterionId.calm: "表現の傾向から冷静さを欠いた返答と判断しました",
}


def apply_policy(rule_label: int, probs: dict[int, float], policy: dict[str, float]) -> int:
    """The label after the model has had its say: its own label when it differs from the
    rules' and its probability exceeds the threshold for that change."""
    model_label = max(probs, key=lambda k: probs[k])
    if model_label == rule_label:
        return rule_label
    t = policy.get(f"{rule_label}>{model_label}")
    return model_label if t is not None and probs[model_label] > t else rule_label


def keywords_present(text: str, lex: Compiled, criterion: str) -> bool:
    """Whether any of the criterion's signal patterns occurs in the (normalised) reply."""
    return any(p.search(text) for ps in lex.signals.get(criterion, {}).values() for p in ps)


def decide(
    rule_label: int, probs: dict[int, float], policy: dict[str, float], keywords_rejected: bool
) -> int:
    """The final label. When the rules read a criterion's words and found no act in them (a
    bare keyword list, 「記録は不要です」, a title addressing the client), the model, which
    reads only words, may not turn them back into a positive label."""
    new = apply_policy(rule_label, probs, policy)
    if new == 1 and rule_label == 0 and keywords_rejected:
        return rule_label
    return new


def _reason(cid: CriterionId, label_ja: str, old: int, new: int) -> str:
    if new == -1:
        return _VIOLATION_REASON.get(cid, f"表現の傾向から「{label_ja}」に反すると判断しました")
    if old == -1:
        return f"表現の傾向から、「{label_ja}」に反する返答ではないと判断しました"
    if new == 1:
        return f"表現の傾向から「{label_ja}」が示されていると判断しました"
    return f"表現の傾向から「{label_ja}」ははっきり示されていないと判断しました"


class HybridJudge(VersionedJudge):
    """Rules plus the learned model (``hybrid@<hash>``)."""

    kind = "hybrid"

    def __init__(self, rules: RuleJudge, model: LearnedModel) -> None:
        self.rules = rules
        self.model = model

    def _model_sha256(self) -> str:
        return self.model.file_sha256

    def assess(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId | str, rubric: Rubric
    ) -> Assessment:
        a, analysis = self.rules.judge(reply, context, scenario, rubric)
        a.judge = self.id_for(rubric)
        if analysis is None or not any(cs.scored for cs in a.scores.values()):
            return a
        preds = self.model.predict(reply, analysis)
        overrides = self.model.policy.get("overrides", {})
        lex = compiled_for(rubric)
        for crit in rubric.criteria:
            cid = crit.id
            cs = a.scores.get(cid)
            p = preds.get(cid.value)
            if cs is None or p is None or cs.score is None:
                continue
            old = SCORE_TO_LABEL[cs.score]
            new = apply_policy(old, p.probs, overrides.get(cid.value, {}))
            if new == 1 and old == 0 and not crit.can_violate:
                # only now is it worth scanning the criterion's patterns (see ``decide``)
                new = decide(
                    old,
                    p.probs,
                    overrides.get(cid.value, {}),
                    keywords_present(analysis.text, lex, cid.value),
                )
            if new != old:
                self._overrule(a, cid, crit.label, cs, p, reply, old, new)
            else:
                cs.confidence = round(p.probs.get(old, 0.0), 3)
        return a

    def _overrule(
        self,
        a: Assessment,
        cid: CriterionId,
        label_ja: str,
        cs: CriterionScore,
        p: Prediction,
        reply: str,
        old: int,
        new: int,
    ) -> None:
        like = self.model.nearest(reply, cid.value, new)
        reason = f"{_reason(cid, label_ja, old, new)}（確信度 {p.probs[new]:.0%}）"
        if like:
            reason += "。似た判定例: " + "・".join(f"「{x}」" for x in like)
        reason += f"。ルールの読み: {cs.reason}"
        a.scores[cid] = CriterionScore(
            criterion=cid,
            reason=reason,
            score=LABEL_TO_SCORE[new],
            evidence=cs.evidence if new != -1 and old != 1 else [],
            manual_ref=cs.manual_ref,
            source="model",
            confidence=round(p.probs[new], 3),
        )
        if cid is CriterionId.firm:
            a.concession = new == -1
            # a contract mentioned only to give in asserts nothing (LABELING.md)
            con = a.scores.get(CriterionId.contract)
            if (
                new == -1
                and con is not None
                and con.score is not None
                and con.score >= 2
                and con.source == "rules"
            ):
                con.score = 1
                con.reason = f"契約に触れていますが、譲歩しているため主張になっていません（{con.reason}）"
        if cid is CriterionId.calm and old == -1:
            a.hostile = False
