"""``python -m simulator eval``: how far a judge agrees with expert labels.

Scores 0-3 map to labels as LABELING.md says (0 -> -1, 1 -> 0, 2/3 -> 1). An unscored
criterion counts as 0 ("not shown") and is reported separately.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from simulator.models import CRITERIA, CRITERION_LABELS, CriterionId

LABELS: tuple[int, ...] = (-1, 0, 1)
SCORE_TO_LABEL = {0: -1, 1: 0, 2: 1, 3: 1}


def _violable() -> set[str]:
    """The criteria the rubric says can be violated (label -1)."""
    from simulator.library import get_rubric

    return {c.id.value for c in get_rubric().criteria if c.can_violate}


def to_label(score: int | None) -> int:
    return 0 if score is None else SCORE_TO_LABEL[score]


def confusion_matrix(
    gold: Sequence[int], pred: Sequence[int], labels: Sequence[int] = LABELS
) -> list[list[int]]:
    """Rows are gold labels, columns predicted labels, both in ``labels`` order."""
    idx = {lab: i for i, lab in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        m[idx[g]][idx[p]] += 1
    return m


def f1_per_label(
    gold: Sequence[int], pred: Sequence[int], labels: Sequence[int] = LABELS
) -> dict[int, float]:
    out = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p != lab)
        out[lab] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return out


def macro_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Mean F1 over the labels that occur in the gold or the predicted labels."""
    present = sorted(set(gold) | set(pred))
    if not present:
        return 0.0
    f1 = f1_per_label(gold, pred, present)
    return sum(f1.values()) / len(present)


def cohen_kappa(gold: Sequence[int], pred: Sequence[int]) -> float:
    n = len(gold)
    if n == 0:
        return 0.0
    labels = sorted(set(gold) | set(pred))
    po = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / n
    pe = sum(
        (sum(1 for g in gold if g == lab) / n) * (sum(1 for p in pred if p == lab) / n) for lab in labels
    )
    if pe >= 1.0:
        return 1.0 if po >= 1.0 else 0.0
    return (po - pe) / (1 - pe)


def recall(gold: Sequence[int], pred: Sequence[int], label: int) -> float | None:
    hits = [p == label for g, p in zip(gold, pred, strict=True) if g == label]
    return None if not hits else sum(hits) / len(hits)


def evaluate(records: list[dict[str, Any]], predictions: list[dict[str, int | None]]) -> dict[str, Any]:
    """Metrics per criterion plus the disagreements, for labelled records and a judge's scores."""
    per: dict[str, Any] = {}
    disagreements: list[dict[str, Any]] = []
    for cid in CRITERIA:
        c = cid.value
        gold = [int(r["labels"][c]) for r in records]
        pred = [to_label(p.get(c)) for p in predictions]
        labels = LABELS if cid.value in _violable() else (0, 1)
        labels = tuple(sorted(set(labels) | set(gold) | set(pred)))
        per[c] = {
            "labels": list(labels),
            "confusion": confusion_matrix(gold, pred, labels),
            "macro_f1": macro_f1(gold, pred),
            "kappa": cohen_kappa(gold, pred),
            "unscored": sum(1 for p in predictions if p.get(c) is None),
        }
        for r, g, p in zip(records, gold, pred, strict=True):
            if g != p:
                disagreements.append(
                    {
                        "id": r.get("id"),
                        "criterion": c,
                        "gold": g,
                        "pred": p,
                        "reply": r["reply"],
                        "client": _last_client(r),
                    }  # fmt: skip
                )
    firm_gold = [int(r["labels"]["firm"]) for r in records]
    firm_pred = [to_label(p.get("firm")) for p in predictions]
    return {
        "n": len(records),
        "criteria": per,
        "mean_macro_f1": sum(v["macro_f1"] for v in per.values()) / len(per),
        "concession_recall": recall(firm_gold, firm_pred, -1),
        "false_concession_rate": _false_rate(firm_gold, firm_pred, -1),
        "disagreements": disagreements,
    }


def _false_rate(gold: Sequence[int], pred: Sequence[int], label: int) -> float | None:
    """Share of the replies without ``label`` that were given it."""
    others = [p == label for g, p in zip(gold, pred, strict=True) if g != label]
    return None if not others else sum(others) / len(others)


def _last_client(rec: dict[str, Any]) -> str:
    for c in reversed(rec.get("context", [])):
        if c.get("role") == "client":
            return str(c.get("text", ""))
    return ""


def format_report(m: dict[str, Any]) -> str:
    lines = [f"評価件数 / records: {m['n']}", ""]
    for c, v in m["criteria"].items():
        lines.append(f"■ {c} ({CRITERION_LABELS[CriterionId(c)]})  macro-F1 {v['macro_f1']:.3f}  kappa {v['kappa']:.3f}"
                     + (f"  unscored {v['unscored']}" if v["unscored"] else ""))  # fmt: skip
        labs = v["labels"]
        lines.append("  正解＼判定 " + " ".join(f"{lab:>5}" for lab in labs))
        for lab, row in zip(labs, v["confusion"], strict=True):
            lines.append(f"  {lab:>9} " + " ".join(f"{x:>5}" for x in row))
        lines.append("")
    cr = m["concession_recall"]
    lines.append(f"平均 macro-F1 / mean macro-F1: {m['mean_macro_f1']:.3f}")
    lines.append("譲歩の検出率 / concession (firm=-1) recall: " + ("n/a" if cr is None else f"{cr:.3f}"))
    fa = m.get("false_concession_rate")
    lines.append(
        "譲歩でない返答を譲歩と判定した率 / false concessions: " + ("n/a" if fa is None else f"{fa:.3f}")
    )
    lines.append("")
    lines.append(f"不一致 / disagreements: {len(m['disagreements'])}")
    for d in m["disagreements"]:
        lines.append(f"  [{d['id']}] {d['criterion']}: 正解 {d['gold']:+d} / 判定 {d['pred']:+d}")
        lines.append(f"      相手: {d['client']}")
        lines.append(f"      返答: {d['reply']}")
    return "\n".join(lines)


def read_labelled(path: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The raw records and their parsed form; raises BadRecord naming the line."""
    from simulator.scoring.cli import BadRecord, parse_record

    raw: list[dict[str, Any]] = []
    parsed = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = parse_record(line, lineno)
            obj = json.loads(line)
            labels = obj.get("labels")
            if not isinstance(labels, dict) or any(c.value not in labels for c in CRITERIA):
                raise BadRecord(f"{lineno}行目: labels がありません / line {lineno}: missing labels")
            raw.append(obj)
            parsed.append(rec)
    return raw, parsed


def predict(judge_name: str, records: list[dict[str, Any]]) -> list[dict[str, int | None]]:
    from simulator.library import get_rubric
    from simulator.scoring import get_judge

    rubric = get_rubric()
    j = get_judge(judge_name)
    return [j.assess(r["reply"], r["context"], r["scenario"], rubric).score_map() for r in records]


def side_by_side(results: dict[str, dict[str, Any]]) -> str:
    """One table: each judge's macro-F1 per criterion, mean, concession recall and false alarms."""
    names = list(results)
    head = (
        "| judge | "
        + " | ".join(c.value for c in CRITERIA)
        + " | mean | concession recall | false concessions |"
    )
    lines = [head, "|" + " --- |" * (len(CRITERIA) + 4)]
    for n in names:
        m = results[n]
        cr = m["concession_recall"]
        fa = m.get("false_concession_rate")
        lines.append(
            f"| {n} | "
            + " | ".join(f"{m['criteria'][c.value]['macro_f1']:.3f}" for c in CRITERIA)
            + f" | {m['mean_macro_f1']:.3f} | {'n/a' if cr is None else f'{cr:.3f}'}"
            + f" | {'n/a' if fa is None else f'{fa:.3f}'} |"
        )
    return "\n".join(lines)


def run_eval(path: str, judge: str | None, as_json: bool = False) -> int:
    from simulator.scoring.cli import BadRecord

    try:
        raw, parsed = read_labelled(path)
    except BadRecord as e:
        print(str(e), file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{path}: 読み込めません / cannot read ({e})", file=sys.stderr)
        return 2
    names = [judge] if judge else ["hybrid", "rules"]
    results = {n: evaluate(raw, predict(n, parsed)) for n in names}
    if as_json:
        print(json.dumps(results if judge is None else results[judge], ensure_ascii=False, indent=2))
    elif judge:
        print(format_report(results[judge]))
    else:
        print(format_report(results["hybrid"]))
        print()
        print("判定器の比較 / judges side by side:")
        print(side_by_side(results))
    return 0


def run_cv(as_json: bool = False) -> int:
    """Cross-validated figures of the hybrid on the training corpus (folds by writer)."""
    from simulator.scoring.cv import cross_validate

    results = cross_validate()
    calibration = results.pop("calibration", {})
    if as_json:
        print(json.dumps({**results, "calibration": calibration}, ensure_ascii=False, indent=2))
    else:
        print(format_report(results["hybrid (cv)"]))
        print()
        print("交差検証（書き手ごとの分割）/ cross-validated, folds by writer:")
        print(side_by_side(results))
        print(
            "rules は学習コーパスを見て書かれているため、その行は上限の参考値です / "
            "the rules were written with this corpus in view: their row is an upper bound"
        )
        print(
            "確率の較正（ECE, 0 が理想）/ calibration of the model's out-of-fold probabilities: "
            + ", ".join(f"{c} {v:.3f}" for c, v in calibration.items())
        )
    return 0


def evaluate_reviewed(
    records: list[dict[str, Any]], predictions: list[dict[str, int | None]]
) -> dict[str, Any]:
    """Like :func:`evaluate`, but each criterion only on the replies a trainer decided it for
    (``reviewed``): the other labels are the machine's own and would only measure agreement
    with itself."""
    per: dict[str, Any] = {}
    disagreements: list[dict[str, Any]] = []
    counted = []
    for cid in CRITERIA:
        c = cid.value
        idx = [i for i, r in enumerate(records) if c in r.get("reviewed", [])]
        if not idx:
            continue
        sub = evaluate([records[i] for i in idx], [predictions[i] for i in idx])
        per[c] = {**sub["criteria"][c], "n": len(idx)}
        counted.append(per[c]["macro_f1"])
        disagreements += [d for d in sub["disagreements"] if d["criterion"] == c]
    firm = [i for i, r in enumerate(records) if "firm" in r.get("reviewed", [])]
    gold = [int(records[i]["labels"]["firm"]) for i in firm]
    pred = [to_label(predictions[i].get("firm")) for i in firm]
    return {
        "n": len(records),
        "criteria": per,
        "mean_macro_f1": sum(counted) / len(counted) if counted else None,
        "concession_recall": recall(gold, pred, -1) if firm else None,
        "false_concession_rate": _false_rate(gold, pred, -1) if firm else None,
        "disagreements": disagreements,
    }


def run_eval_overrides(judge: str | None, as_json: bool = False) -> int:
    """The judge(s) against the trainers' overrides in the database, on the criteria reviewed."""
    from simulator.app.reviews import labelled_records
    from simulator.store import Store

    store = Store()
    try:
        records = labelled_records(store)
    finally:
        store.engine.dispose()
    if not records:
        print("研修担当の修正はまだありません / no overrides yet", file=sys.stderr)
        return 1
    names = [judge] if judge else ["hybrid", "rules"]
    from simulator.models import ContextLine

    parsed = [{**r, "context": [ContextLine(**c) for c in r["context"]]} for r in records]
    results = {n: evaluate_reviewed(records, predict(n, parsed)) for n in names}
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
        return 0
    print(
        f"研修担当の修正 {len(records)} 件（修正された基準だけを数えます） / {len(records)} reviewed replies"
    )
    for n, m in results.items():
        cells = "  ".join(f"{c} {v['macro_f1']:.3f} (n={v['n']})" for c, v in m["criteria"].items())
        mean = "—" if m["mean_macro_f1"] is None else f"{m['mean_macro_f1']:.3f}"
        print(f"{n}: mean {mean}  {cells}")
    return 0
