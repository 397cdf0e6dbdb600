"""``python -m simulator judge train``: fit the hybrid judge's classifiers on the labelled corpus.

Deterministic: the corpus is read in file and line order, the solver is L-BFGS, the weights
are rounded before they are written, so a fresh clone reproduces the shipped file byte for
byte. Imports scikit-learn, which the app itself never needs.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

from simulator.scoring.hybrid import decide, rules_stand
from simulator.scoring.learned import (  # noqa: I001
    CORPUS_DIR,
    FORMAT,
    MODEL_PATH,
    NGRAMS,
    RULE_WEIGHT,
    corpus_sha256,
    features,
    load_corpus,
)

C_REG = 30.0
MIN_DF = 2
FOLDS = 5
DIGITS = 4
# The model overrules the rules' label when it predicts another label with a probability
# above a threshold chosen per criterion and per (rule label > model label) pair. The
# thresholds are tuned on out-of-fold probabilities of the batches the rules were never
# tuned on (``rules_tuned_on: false`` in rubrics/corpus/batches.json), maximising macro-F1
# while keeping false concessions (firm -1 given to a non-concession) no higher than the
# rules' own rate on those batches (the model may find more concessions, not more false ones).
THRESHOLDS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # 0.0: the model decides that change
# Taking back a violation the rules found is never left to a bare majority of the model's
# classes: a missed concession is the worst mistake a trainer can see.
THRESHOLDS_AGAINST_VIOLATION = (0.5, 0.7, 0.9, 0.95)
MAX_FALSE_CONCESSION = 0.05  # only when no rate is given


def label_space(criterion: str, can_violate: dict[str, bool]) -> list[int]:
    return [-1, 0, 1] if can_violate.get(criterion) else [0, 1]


def _macro_f1(gold: list[int], pred: list[int]) -> float:
    from simulator.evaluation import macro_f1

    return macro_f1(gold, pred)


def tune_policy(
    gold: list[int],
    rule: list[int],
    probs: list[dict[int, float]],
    labels: list[int],
    guard_concessions: bool,
    rejected: list[bool] | None = None,
    max_false_concession: float | None = None,
) -> dict[str, float]:
    """Greedy coordinate search over the thresholds, deterministic (fixed order, strict gains)."""

    def evaluate(pol: dict[str, float]) -> tuple[float, float]:
        rej = rejected or [False] * len(rule)
        pred = [decide(r, p, pol, x) for r, p, x in zip(rule, probs, rej, strict=True)]
        others = [p == -1 for g, p in zip(gold, pred, strict=True) if g != -1]
        fa = sum(others) / len(others) if others else 0.0
        return _macro_f1(gold, pred), fa

    cap = max_false_concession if max_false_concession is not None else MAX_FALSE_CONCESSION

    def objective(f: float, fa: float) -> float:
        # past the cap, every point of false concessions costs ten points of F1
        return f - 10.0 * max(0.0, fa - cap) if guard_concessions else f

    pairs = [f"{a}>{b}" for a in labels for b in labels if a != b]
    # start from the model deciding every change (it reads the rules' conclusions as
    # features), then raise a threshold wherever the rules' own reading does better
    pol: dict[str, float] = {
        p: (THRESHOLDS_AGAINST_VIOLATION[0] if p.startswith("-1>") else 0.0) for p in pairs
    }
    best = objective(*evaluate(pol))
    for _round in range(2):
        for pair in pairs:
            grid = THRESHOLDS_AGAINST_VIOLATION if pair.startswith("-1>") else THRESHOLDS
            for t in (None, *grid):
                cand = dict(pol)
                if t is None:
                    cand.pop(pair, None)
                else:
                    cand[pair] = t
                f = objective(*evaluate(cand))
                if f > best + 1e-4:
                    best, pol = f, cand
    return dict(sorted(pol.items()))


def unseen_by_rules(corpus_dir: Path = CORPUS_DIR) -> set[str]:
    """The corpus files the rules were never tuned on (where the policy is tuned)."""
    meta = json.loads((corpus_dir / "batches.json").read_text(encoding="utf-8"))
    return {b["file"] for b in meta["batches"] if not b["rules_tuned_on"]}


def criteria_of(recs: list[dict[str, Any]]) -> list[str]:
    from simulator.library import get_rubric

    return [c.id.value for c in get_rubric().criteria]


def group_of(rec: dict[str, Any]) -> str:
    """The annotator (or own batch) a record comes from: folds never split one writer."""
    return str(rec["id"])[0]


def _fit(x: Any, y: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C_REG, class_weight="balanced", max_iter=5000)
    m.fit(x, y)
    return m


def rule_pass(
    recs: list[dict[str, Any]],
) -> tuple[list[dict[str, float]], list[dict[str, int]], list[set[str]]]:
    """Each record's model features, the rules' labels and the criteria whose words the rules
    let stand against the model (``hybrid.rules_stand``), from one pass of the rule judge
    (the model reads the rules' conclusions as features, like the hybrid does at run time)."""
    from simulator.library import get_rubric
    from simulator.models import ContextLine
    from simulator.scoring import rule_judge

    rubric = get_rubric()
    rules = rule_judge()
    feats: list[dict[str, float]] = []
    labels: list[dict[str, int]] = []
    rejected: list[set[str]] = []
    for r in recs:
        a, analysis = rules.judge(r["reply"], [ContextLine(**c) for c in r["context"]], r["scenario"], rubric)
        feats.append(
            features(r["reply"], analysis, rules=a) if analysis is not None else features(r["reply"])
        )
        labels.append({c.value: cs.label_value or 0 for c, cs in a.scores.items()})
        rejected.append(rules_stand(a))
    return feats, labels, rejected


def _vectorise(feats: list[dict[str, float]]) -> tuple[Any, list[str]]:
    from sklearn.feature_extraction import DictVectorizer

    df: dict[str, int] = {}
    for f in feats:
        for k in f:
            df[k] = df.get(k, 0) + 1
    vocab = sorted(k for k, n in df.items() if n >= MIN_DF)
    keep = set(vocab)
    dv = DictVectorizer(sort=True)
    x = dv.fit_transform([{k: v for k, v in f.items() if k in keep} for f in feats])
    assert list(dv.feature_names_) == vocab
    return x, vocab


Logits = tuple[list[int], list[float]]  # (classes, one logit per class)


def oof_logits(
    recs: list[dict[str, Any]], criteria: list[str], feats: list[dict[str, float]]
) -> list[dict[str, Logits]]:
    """Out-of-fold logits per criterion (folds grouped by writer), before temperature scaling."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.model_selection import GroupKFold

    groups = [group_of(r) for r in recs]
    out: list[dict[str, Logits]] = [{} for _ in recs]
    folds = list(GroupKFold(n_splits=FOLDS).split(recs, groups=groups))
    for tr, te in folds:
        train = [recs[i] for i in tr]
        x_tr, vocab = _vectorise([feats[i] for i in tr])
        index = {k: i for i, k in enumerate(vocab)}
        rows, cols, vals = [], [], []
        for r_i, i in enumerate(te):
            for k, v in feats[i].items():
                if k in index:
                    rows.append(r_i)
                    cols.append(index[k])
                    vals.append(v)
        x_te = csr_matrix((vals, (rows, cols)), shape=(len(te), len(vocab)))
        for c in criteria:
            y = np.array([int(r["labels"][c]) for r in train])
            m = _fit(x_tr, y)
            logits = m.decision_function(x_te)
            for j, i in enumerate(te):
                lg = logits[j] if logits.ndim == 2 else [0.0, float(logits[j])]
                out[i][c] = (list(map(int, m.classes_)), list(map(float, lg)))
    return out


def _softmax(xs: list[float], t: float) -> list[float]:
    m = max(x / t for x in xs)
    es = [math.exp(x / t - m) for x in xs]
    s = sum(es)
    return [e / s for e in es]


def fit_temperature(logits: list[list[float]], classes: list[int], gold: list[int]) -> float:
    """The temperature that minimises the out-of-fold log loss (grid search, deterministic)."""
    best_t, best = 1.0, float("inf")
    for k in range(5, 61):
        t = k / 10
        nll = 0.0
        for lg, g in zip(logits, gold, strict=True):
            p = _softmax(lg, t)[classes.index(g)]
            nll -= math.log(max(p, 1e-12))
        if nll < best - 1e-9:
            best_t, best = t, nll
    return best_t


def calibrated_oof(
    recs: list[dict[str, Any]], criteria: list[str], feats: list[dict[str, float]]
) -> tuple[list[dict[str, dict[int, float]]], dict[str, float]]:
    raw = oof_logits(recs, criteria, feats)
    temps: dict[str, float] = {}
    out: list[dict[str, dict[int, float]]] = [{} for _ in recs]
    for c in criteria:
        classes = raw[0][c][0]
        logits = [r[c][1] for r in raw]
        gold = [int(r["labels"][c]) for r in recs]
        t = fit_temperature(logits, classes, gold)
        temps[c] = t
        for i, lg in enumerate(logits):
            out[i][c] = dict(zip(classes, _softmax(lg, t), strict=True))
    return out, temps


def train(corpus_dir: Path = CORPUS_DIR) -> dict[str, Any]:
    import numpy as np

    from simulator.library import get_rubric

    recs = load_corpus(corpus_dir)
    criteria = criteria_of(recs)
    feats, all_rules, all_rejected = rule_pass(recs)
    oof, temps = calibrated_oof(recs, criteria, feats)
    can_violate = {c.id.value: c.can_violate for c in get_rubric().criteria}
    unseen = unseen_by_rules(corpus_dir)
    held = [i for i, r in enumerate(recs) if r["_file"] in unseen]
    rules = [all_rules[i] for i in held]
    policy: dict[str, Any] = {"overrides": {}}
    rej = [{c: c in all_rejected[i] for c in criteria} for i in held]
    # the hybrid may not call more non-concessions concessions than the rules alone do
    firm_gold = [int(recs[i]["labels"]["firm"]) for i in held]
    non = [r["firm"] for r, g in zip(rules, firm_gold, strict=True) if g != -1]
    rules_false = round(sum(1 for x in non if x == -1) / max(1, len(non)), 4)
    policy["max_false_concession"] = rules_false
    for c in criteria:
        policy["overrides"][c] = tune_policy(
            [int(recs[i]["labels"][c]) for i in held],
            [r[c] for r in rules],
            [oof[i][c] for i in held],
            label_space(c, can_violate),
            guard_concessions=(c == "firm"),
            rejected=[x[c] for x in rej],
            max_false_concession=rules_false if c == "firm" else None,
        )
    x, vocab = _vectorise(feats)
    crit_out: dict[str, Any] = {}
    coef_by_c: dict[str, str] = {}
    for c in criteria:
        y = np.array([int(r["labels"][c]) for r in recs])
        m = _fit(x, y)
        coef = m.coef_  # (n_logits, n_features)
        # (n_features, n_logits), rounded, as little-endian float32 in base64
        rounded = np.round(coef.T, DIGITS).astype("<f4")
        coef_by_c[c] = base64.b64encode(np.ascontiguousarray(rounded).tobytes()).decode("ascii")
        crit_out[c] = {
            "classes": list(map(int, m.classes_)),
            "intercept": [round(float(b), DIGITS) for b in m.intercept_],
            "temperature": temps[c],
        }
    for c in criteria:
        crit_out[c]["coef_f32"] = coef_by_c[c]
    return {
        "format": FORMAT,
        "kind": "logistic regression per criterion over character n-grams, predicates and the rules' conclusions",
        "features": {
            "ngrams": list(NGRAMS),
            "last_sentence_ngrams": [2, 3],
            "predicates_with_polarity": True,
            "rule_block_weight": RULE_WEIGHT,
            "min_df": MIN_DF,
            "l2": "per block",
        },
        "training": {"C": C_REG, "class_weight": "balanced", "solver": "lbfgs", "folds": FOLDS},
        "corpus_sha256": corpus_sha256(corpus_dir),
        "corpus_records": len(recs),
        "policy": policy,
        "policy_tuned_on": sorted(unseen),
        "vocab": vocab,
        "criteria": crit_out,
        "examples": [{"reply": r["reply"], "labels": r["labels"]} for r in recs],
    }


def dumps(model: dict[str, Any]) -> str:
    return json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def write(model: dict[str, Any], path: Path = MODEL_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(model), encoding="utf-8")
    return path
