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
from simulator.scoring.lexicon import compiled_for
from simulator.scoring.rules import RuleJudge, offers
from simulator.scoring.version import VersionedJudge

LABEL_TO_SCORE = {-1: 0, 0: 1, 1: 2}

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


# Concessions the manual decides outright although the corpus' annotators split on them:
# laughing off an advance (「笑顔で曖昧にせず」). The model may not take them back.
DECIDED_VIOLATIONS = frozenset({"laughter", "concession", "compliance"})


def rules_stand(a: Assessment) -> set[str]:
    """The criteria on which the rules' reading stands against the model: words the rules
    read as no act (a bare list, 「記録は不要です」, a title addressing the client, a contract
    cited only to give in), and violations the labelling guide decides outright."""
    out = set(a.words_without_act)
    firm = a.scores.get(CriterionId.firm)
    if firm is not None and firm.score == 0 and any(e.signal in DECIDED_VIOLATIONS for e in firm.evidence):
        out.add(CriterionId.firm.value)
    return out


def decide(rule_label: int, probs: dict[int, float], policy: dict[str, float], rules_stand: bool) -> int:
    """The final label: the model's where the policy lets it overrule, unless the rules'
    reading stands on this criterion (``rules_stand``) against a change the model, which reads
    words, cannot judge: turning rejected words into an act, or taking back a decided violation."""
    new = apply_policy(rule_label, probs, policy)
    if rules_stand and ((new == 1 and rule_label == 0) or (rule_label == -1 and new != -1)):
        return rule_label
    return new


CONTRACT_DOWNGRADE = ("contract", 1, 0)


def combine(
    order: list[str],
    rule: dict[str, int],
    probs: dict[str, dict[int, float]],
    overrides: dict[str, dict[str, float]],
    stand: set[str],
) -> list[tuple[str, int, int]]:
    """The changes the model makes to the rules' labels, in criterion order, as
    (criterion, old label, new label). When the model turns the reply into a concession, a
    contract the rules credited is marked as cited only to give in (LABELING.md) before the
    contract itself is decided: that change is :data:`CONTRACT_DOWNGRADE`. The judge and the
    cross-validation both read their labels from here."""
    cur = dict(rule)
    changes: list[tuple[str, int, int]] = []
    for c in order:
        if c not in cur or c not in probs:
            continue
        old = cur[c]
        new = decide(old, probs[c], overrides.get(c, {}), c in stand)
        if new == old:
            continue
        changes.append((c, old, new))
        cur[c] = new
        if c == "firm" and new == -1 and cur.get("contract") == 1:
            changes.append(CONTRACT_DOWNGRADE)
            cur["contract"] = 0
    return changes


def final_labels(rule: dict[str, int], changes: list[tuple[str, int, int]]) -> dict[str, int]:
    out = dict(rule)
    for c, _old, new in changes:
        out[c] = new
    return out


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
        preds = self.model.predict(reply, analysis, rules=a)
        rule = {c.value: cs.label_value for c, cs in a.scores.items() if cs.label_value is not None}
        probs = {c: p.probs for c, p in preds.items()}
        order = [c.id.value for c in rubric.criteria]
        changes = combine(order, rule, probs, self.model.policy.get("overrides", {}), rules_stand(a))
        for c, old, new in changes:
            cid = CriterionId(c)
            cs = a.scores[cid]
            if (c, old, new) == CONTRACT_DOWNGRADE and cs.source == "rules":
                cs.score = 1
                cs.reason = f"契約に触れていますが、譲歩しているため主張になっていません（{cs.reason}）"
            else:
                self._overrule(a, cid, rubric.criterion(cid).label, cs, preds[c], reply, old, new)
        if a.concession and not any(x.startswith("gave:") for x in a.acts):
            # the model read a concession the rules did not: what did the reply hand over?
            a.acts += offers(analysis, compiled_for(rubric))
        for cid, cs in a.scores.items():
            p = preds.get(cid.value)
            # the model's confidence in the label the rules' reading ended with
            if cs.source == "rules" and p is not None and cs.label_value is not None:
                cs.confidence = round(p.probs.get(cs.label_value, 0.0), 3)
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
        if cid is CriterionId.calm and old == -1:
            a.hostile = False
