"""Cross-validated figures of the hybrid judge on its own training corpus.

Folds never split one writer (an annotator's whole batch is held out at once), so the
model is scored on wording it has not seen, as on a hidden set. The rules are the same in
every fold: they were written with this corpus in view, so their figures here are an
upper bound, and the hybrid's are an honest estimate only of what the model adds.
"""

from __future__ import annotations

from typing import Any

from simulator.models import CriterionId
from simulator.scoring.hybrid import LABEL_TO_SCORE, overrules
from simulator.scoring.learned import load_corpus


def cross_validate() -> dict[str, Any]:
    from simulator.evaluation import evaluate
    from simulator.library import get_rubric
    from simulator.scoring import rule_judge
    from simulator.scoring.train import POLICY, calibrated_oof, criteria_of
    from simulator.models import ContextLine

    recs = load_corpus()
    criteria = criteria_of(recs)
    oof, _ = calibrated_oof(recs, criteria)
    rubric = get_rubric()
    rules = rule_judge()
    rule_preds: list[dict[str, int | None]] = []
    hybrid_preds: list[dict[str, int | None]] = []
    model_preds: list[dict[str, int | None]] = []
    for r, probs in zip(recs, oof, strict=True):
        ctx = [ContextLine(**c) for c in r["context"]]
        a = rules.assess(r["reply"], ctx, r["scenario"], rubric)
        rp = a.score_map()
        rule_preds.append(rp)
        hp = dict(rp)
        if any(v is not None for v in rp.values()):
            for c, th in POLICY["violation_override"].items():
                rs = hp.get(c)
                if rs is not None and rs != 0 and overrules(rs, probs[c].get(-1, 0.0), th):
                    hp[c] = 0
                    if c == CriterionId.firm.value and (hp.get("contract") or 0) >= 2:
                        hp["contract"] = 1
        hybrid_preds.append(hp)
        model_preds.append({c: LABEL_TO_SCORE[max(probs[c], key=lambda k: probs[c][k])] for c in criteria})
    return {
        "hybrid (cv)": evaluate(recs, hybrid_preds),
        "model alone (cv)": evaluate(recs, model_preds),
        "rules": evaluate(recs, rule_preds),
    }
