"""``kasuhara judge train``."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli._common import EXIT_FAIL, EXIT_OK


def cmd_judge_train(args: argparse.Namespace) -> int:
    from simulator.scoring import train as tr
    from simulator.scoring.learned import MODEL_PATH

    out = Path(args.out) if args.out else MODEL_PATH
    corpus = Path(args.corpus) if args.corpus else tr.CORPUS_DIR
    if args.with_overrides:
        import tempfile

        tmp = tempfile.TemporaryDirectory()
        corpus, n = _corpus_with_overrides(corpus, Path(tmp.name))
        print(f"研修担当の修正 {n} 件を加えて学習します / adding {n} reviewed replies")
    model = tr.train(corpus)
    if args.check:
        same = out.exists() and out.read_text(encoding="utf-8") == tr.dumps(model)
        print(
            "同一 / identical" if same else f"{out}: 再学習の結果と違います / differs from a fresh training"
        )
        return EXIT_OK if same else EXIT_FAIL
    tr.write(model, out)
    import hashlib

    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"{out}: {model['corpus_records']} 件で学習 / trained on {model['corpus_records']} replies "
          f"(corpus sha256 {model['corpus_sha256'][:12]}, model sha256 {sha[:12]}, vocab {len(model['vocab'])})")  # fmt: skip
    return EXIT_OK


OVERRIDES_BATCH = "batch_reviewed.jsonl"


def _override_records() -> list[dict]:  # type: ignore[type-arg]
    from simulator.app.reviews import labelled_records
    from simulator.store import Store

    store = Store()
    try:
        return labelled_records(store)
    finally:
        store.engine.dispose()


def _corpus_with_overrides(corpus: Path, into: Path) -> tuple[Path, int]:
    """A copy of the corpus with the trainers' reviewed replies as one more batch (the policy is
    tuned on it too: the rules were never tuned on real trainees' replies)."""
    import json
    import shutil

    for f in corpus.iterdir():
        if f.is_file():
            shutil.copy(f, into / f.name)
    recs = _override_records()
    (into / OVERRIDES_BATCH).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8"
    )
    meta = json.loads((into / "batches.json").read_text(encoding="utf-8"))
    meta["batches"] = [b for b in meta["batches"] if b["file"] != OVERRIDES_BATCH] + [
        {"file": OVERRIDES_BATCH, "writer": "trainers' overrides in the app (研修担当の修正)",
         "rules_tuned_on": False, "first_run": "not recorded"}
    ]  # fmt: skip
    (into / "batches.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return into, len(recs)


def cmd_judge_export_overrides(args: argparse.Namespace) -> int:
    import json
    import sys

    recs = _override_records()
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{args.out}: {len(recs)} 件 / records")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jd = sub.add_parser("judge", help="ハイブリッド判定器の学習 / train the hybrid judge")
    jsub = jd.add_subparsers(dest="judge_command", required=True)
    jt = jsub.add_parser(
        "train", help="rubrics/corpus から学習し rubrics/model/hybrid.json を書く / train the model file"
    )
    jt.add_argument("--corpus", default=None, help="ラベル付きコーパスのディレクトリ / corpus directory")
    jt.add_argument("--out", default=None, help="出力先 / output file")
    jt.add_argument(
        "--check", action="store_true", help="書かずに同一か確認 / only check the shipped file is reproduced"
    )
    jt.add_argument(
        "--with-overrides",
        action="store_true",
        help="データベースにある研修担当の修正を学習に加える / add the trainers' overrides from the database",
    )
    jt.set_defaults(func=cmd_judge_train)
    jx = jsub.add_parser(
        "export-overrides",
        help="研修担当の修正をラベル付きデータ（LABELING.md の形式）で書き出す / overrides as labelled JSONL",
    )
    jx.add_argument("--out", default=None, help="出力先（省略時は標準出力） / output file")
    jx.set_defaults(func=cmd_judge_export_overrides)
