"""Agreement metrics for ``python -m simulator eval``."""

import json
from pathlib import Path

import pytest

from simulator.evaluation import cohen_kappa, confusion_matrix, evaluate, macro_f1, recall, run_eval, to_label

OWN = Path(__file__).parent.parent / "rubrics" / "corpus" / "own_replies.jsonl"
# written by two independent annotators who saw LABELING.md and the manual, not the judge or dev.jsonl
INDEPENDENT = Path(__file__).parent.parent / "rubrics" / "corpus" / "independent_replies.jsonl"


def test_score_to_label_mapping():
    assert [to_label(s) for s in (0, 1, 2, 3, None)] == [-1, 0, 1, 1, 0]


def test_confusion_matrix_rows_are_gold():
    m = confusion_matrix([-1, 0, 1, 1], [-1, 1, 1, 0])
    assert m == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]


def test_macro_f1_perfect_and_known_value():
    assert macro_f1([0, 1, 1], [0, 1, 1]) == 1.0
    # label 1: tp 1 fp 0 fn 1 -> 2/3; label 0: tp 1 fp 1 fn 0 -> 2/3
    assert macro_f1([0, 1, 1], [0, 0, 1]) == pytest.approx(2 / 3)


def test_cohen_kappa():
    assert cohen_kappa([0, 1, 0, 1], [0, 1, 0, 1]) == 1.0
    assert cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]) == pytest.approx(-1.0)
    # po = 0.75; pe = 0.5*0.25 + 0.5*0.75 = 0.5 -> kappa 0.5
    assert cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(0.5)
    assert cohen_kappa([1, 1], [1, 1]) == 1.0


def test_recall_of_concessions():
    assert recall([-1, -1, 0], [-1, 0, 0], -1) == 0.5
    assert recall([0, 1], [0, 1], -1) is None


def test_evaluate_lists_disagreements_with_reply_text():
    recs = [
        {"id": "a", "reply": "R1", "context": [{"role": "client", "text": "C1"}],
         "labels": {"calm": 1, "firm": -1, "contract": 0, "record": 0, "escalation": 0}},
    ]  # fmt: skip
    m = evaluate(recs, [{"calm": 2, "firm": 1, "contract": 2, "record": 3, "escalation": 2}])
    crits = {d["criterion"] for d in m["disagreements"]}
    assert crits == {"firm", "contract", "record", "escalation"}
    assert m["disagreements"][0]["reply"] == "R1"
    assert m["concession_recall"] == 0.0


def test_judge_agrees_with_own_labelled_replies():
    recs = [
        json.loads(line)
        for path in (OWN, INDEPENDENT)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(recs) >= 200
    from simulator.models import ContextLine
    from simulator.scoring import assess

    preds = [
        assess(r["reply"], [ContextLine(**c) for c in r["context"]], r["scenario"]).score_map() for r in recs
    ]
    m = evaluate(recs, preds)
    # just under today's figures (hybrid, trained on them among others: mean 0.998, each >= 0.994,
    # concession recall 1.000, false concessions 0.005): a drop of a point shows here
    assert m["mean_macro_f1"] >= 0.99
    assert all(v["macro_f1"] >= 0.985 for v in m["criteria"].values())
    assert m["concession_recall"] >= 0.99
    assert m["false_concession_rate"] <= 0.01


BATCHES = sorted((Path(__file__).parent.parent / "rubrics" / "corpus").glob("batch_*.jsonl"))


def test_the_rules_alone_hold_their_figures_on_batches_they_were_not_tuned_on():
    """The rule judge was never tuned on batches L-Y; its figures there (mean 0.885,
    concession recall 0.626, false concessions 0.043 today) guard against regressions that
    the model would hide."""
    from simulator.models import ContextLine
    from simulator.scoring import rule_judge

    recs = [
        json.loads(ln) for p in BATCHES for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()
    ]
    assert len(recs) >= 2800
    from simulator.library import get_rubric

    rubric = get_rubric()
    preds = [
        rule_judge()
        .assess(r["reply"], [ContextLine(**c) for c in r["context"]], r["scenario"], rubric)
        .score_map()
        for r in recs
    ]
    m = evaluate(recs, preds)
    assert m["mean_macro_f1"] >= 0.875
    assert m["concession_recall"] >= 0.62
    assert m["false_concession_rate"] <= 0.05


def test_run_eval_prints_a_report(capsys):
    assert run_eval(str(OWN), "rules") == 0
    out = capsys.readouterr().out
    assert "macro-F1" in out and "kappa" in out and "concession" in out


def test_run_eval_json(capsys):
    assert run_eval(str(OWN), "rules", as_json=True) == 0
    m = json.loads(capsys.readouterr().out)
    assert set(m["criteria"]) == {"calm", "firm", "contract", "record", "escalation"}


def test_run_eval_rejects_unlabelled_records(tmp_path, capsys):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"id": 1, "scenario": "verbal_abuse", "context": [], "reply": "はい"}) + "\n")
    assert run_eval(str(p), "rules") == 2
    assert "1行目" in capsys.readouterr().err
