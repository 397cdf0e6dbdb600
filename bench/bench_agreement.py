"""Agreement figures for BENCHMARKS.md (`python -m bench.bench_agreement`).

- the first run of each independent batch, as recorded in ``rubrics/corpus/first_runs/``
  before any rule or model was changed for it (the honest estimate for unseen replies);
- the hybrid's cross-validated figures, folds by writer, beside the rules and the model alone;
- per-criterion confusion matrices of the cross-validated hybrid and of the rules.

An evaluation set kept outside the repository can be added with
``python -m simulator eval PATH`` (it prints hybrid and rules side by side).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIRST_RUNS = Path(__file__).resolve().parent.parent / "rubrics" / "corpus" / "first_runs"


def _row(name: str, m: dict[str, Any]) -> str:
    c = m["criteria"]
    cr, fa = m.get("concession_recall"), m.get("false_concession_rate")
    return (
        f"| {name} | {m['n']} | "
        + " | ".join(f"{c[k]['macro_f1']:.3f}" for k in c)
        + f" | {m['mean_macro_f1']:.3f}"
        f" | {'n/a' if cr is None else f'{cr:.3f}'} | {'n/a' if fa is None else f'{fa:.3f}'} |"
    )


HEAD = (
    "| set / judge | n | calm | firm | contract | record | escalation | mean | concession recall | false concessions |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def _confusion(name: str, m: dict[str, Any]) -> list[str]:
    out = [f"**{name}** (rows gold, columns judged)", ""]
    for c, v in m["criteria"].items():
        labs = v["labels"]
        out.append(
            f"- {c}: "
            + "; ".join(
                f"gold {g:+d} → " + " ".join(f"{p:+d}:{n}" for p, n in zip(labs, row, strict=True))
                for g, row in zip(labs, v["confusion"], strict=True)
            )
        )
    return out + [""]


AGREEMENT = FIRST_RUNS.parent / "agreement" / "relabels.jsonl"


def _agreement() -> list[str]:
    """Two more annotators re-labelled 300 replies of batches S-Y blind: how far labellers agree."""
    from simulator.evaluation import evaluate
    from simulator.scoring.learned import load_corpus

    if not AGREEMENT.exists():
        return []
    later = {f"batch_{b}.jsonl" for b in "STUVWXY"}
    orig = {r["id"]: r for r in load_corpus() if r["_file"] in later}
    rel = [json.loads(x) for x in AGREEMENT.read_text(encoding="utf-8").splitlines() if x.strip()]
    recs = [orig[r["id"]] for r in rel if r["id"] in orig]
    preds = [{c: {-1: 0, 0: 1, 1: 2}[v] for c, v in r["labels"].items()} for r in rel if r["id"] in orig]
    m = evaluate(recs, preds)
    return [
        "",
        "### How far labellers agree",
        "",
        f"Two further annotators re-labelled {m['n']} replies drawn at random from batches S-Y, without seeing",
        "the original labels (`rubrics/corpus/agreement/relabels.jsonl`). Their agreement with the writers'",
        "labels, scored as if they were a judge:",
        "",
        HEAD,
        _row("re-labellers vs writers", m),
        "",
        "All annotators are sessions of the same kind reading the same guide, so this is an upper bound on",
        "how far independent people agree; the gap between it and the judges is the judges' own error.",
    ]


def main(argv: list[str] | None = None) -> int:
    from simulator.scoring.cv import cross_validate

    lines = [
        "Commands: `make bench` (or `.venv/bin/python -m bench.bench_agreement`); "
        "`.venv/bin/python -m simulator eval --cv` prints the cross-validated table.",
        "",
        "### First runs of the independent batches (before any change for them)",
        "",
        "Fourteen annotators (other sessions given only LABELING.md and the manual) wrote and labelled",
        "200 replies each, `rubrics/corpus/batch_L.jsonl` … `batch_Y.jsonl`. Each batch was scored once, as it",
        "arrived, before anything was changed for it: L-R by the rules and by the first hybrid (trained on the",
        "623 earlier replies), S-Y by the rules and by the hybrid trained on 2,023 replies (commit d3d33d4).",
        "The figures are kept in `rubrics/corpus/first_runs/`. They are the honest estimate for replies",
        "nobody has seen; the shipped hybrid is trained on all of them, so its own first run is still to come.",
        "",
        HEAD,
    ]
    for f in sorted(FIRST_RUNS.glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        for j in ("rules", "hybrid"):
            lines.append(_row(f"{d['batch']} {j}", d["judges"][j]))
    lines += _agreement()
    res = cross_validate()
    calibration = res.pop("calibration", {})
    lines += [
        "",
        "### Cross-validated (all 3,423 labelled replies, folds by writer)",
        "",
        "The model is trained without the held-out writer's replies; the override thresholds were tuned on",
        "the batches the rules were never tuned on (L-Y), so the rows on those batches are the fairer",
        "estimate of the hybrid against the rules. The rules were written with the older sets in view:",
        "their all-corpus row is an upper bound.",
        "",
        HEAD,
    ]
    for name, m in res.items():
        lines.append(_row(name, m))
    lines += [
        "",
        "Calibration of the model's out-of-fold probabilities after temperature scaling (expected calibration",
        "error over ten bins; 0 is perfect): "
        + ", ".join(f"{c} {v:.3f}" for c, v in calibration.items())
        + ".",
    ]
    lines += ["", "### Confusion matrices", ""]
    for name in ("hybrid (cv), rule-unseen batches", "rules, rule-unseen batches"):
        if name in res:
            lines += _confusion(name, res[name])
    from bench.results import write_section

    write_section("Judge agreement", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
