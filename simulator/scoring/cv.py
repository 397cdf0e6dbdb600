"""Cross-validated figures of the hybrid judge on its own training corpus.

Folds never split one writer (an annotator's whole batch is held out at once), so the
model is scored on wording it has not seen, as on a hidden set. The rules are the same in
every fold: they were written with this corpus in view, so their figures here are an
upper bound, and the hybrid's are an honest estimate only of what the model adds.
"""

from __future__ import annotations

from typing import Any

from simulator.scoring.hybrid import LABEL_TO_SCORE, combine, final_labels
from simulator.scoring.learned import load_corpus


def cross_validate() -> dict[str, Any]:
    from simulator.evaluation import evaluate
    from simulator.scoring.learned import shipped_model
    from simulator.scoring.train import calibrated_oof, criteria_of, rule_pass

    recs = load_corpus()
    criteria = criteria_of(recs)
    feats, rules, rejected = rule_pass(recs)
    oof, _ = calibrated_oof(recs, criteria, feats)
    overrides = shipped_model().policy.get("overrides", {})
    rule_preds: list[dict[str, int | None]] = []
    hybrid_preds: list[dict[str, int | None]] = []
    model_preds: list[dict[str, int | None]] = []
    for rl, pr, stand in zip(rules, oof, rejected, strict=True):
        rule_preds.append({c: LABEL_TO_SCORE[rl[c]] for c in criteria})
        labels = final_labels(rl, combine(criteria, rl, pr, overrides, stand))
        hybrid_preds.append({c: LABEL_TO_SCORE[labels[c]] for c in criteria})
        model_preds.append({c: LABEL_TO_SCORE[max(pr[c], key=lambda k: pr[c][k])] for c in criteria})
    out: dict[str, Any] = {}
    for name, preds in (
        ("hybrid (cv)", hybrid_preds),
        ("model alone (cv)", model_preds),
        ("rules", rule_preds),
    ):
        out[name] = evaluate(recs, preds)
    out["calibration"] = {
        c: expected_calibration_error([p[c] for p in oof], [int(r["labels"][c]) for r in recs])
        for c in criteria
    }
    unseen = [i for i, r in enumerate(recs) if r["_file"] in _unseen()]
    if unseen:
        sub = [recs[i] for i in unseen]
        for name, preds in (
            ("hybrid (cv), rule-unseen batches", hybrid_preds),
            ("model alone (cv), rule-unseen batches", model_preds),
            ("rules, rule-unseen batches", rule_preds),
        ):
            out[name] = evaluate(sub, [preds[i] for i in unseen])
    return out


def expected_calibration_error(probs: list[dict[int, float]], gold: list[int], bins: int = 10) -> float:
    """Mean gap between the model's confidence in its label and how often that label is right,
    over ten confidence bins weighted by size (0 = perfectly calibrated)."""
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, g in zip(probs, gold, strict=True):
        label = max(p, key=lambda k: p[k])
        conf = p[label]
        buckets[min(bins - 1, int(conf * bins))].append((conf, label == g))
    n = len(gold)
    return round(
        sum(
            len(b) / n * abs(sum(c for c, _ in b) / len(b) - sum(ok for _, ok in b) / len(b))
            for b in buckets
            if b
        ),
        4,
    )


def _unseen() -> set[str]:
    from simulator.scoring.train import unseen_by_rules

    return unseen_by_rules()
