"""``kasuhara judge train``."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli._common import EXIT_FAIL, EXIT_OK


def cmd_judge_train(args: argparse.Namespace) -> int:
    from simulator.scoring import train as tr
    from simulator.scoring.learned import MODEL_PATH

    out = Path(args.out) if args.out else MODEL_PATH
    model = tr.train(Path(args.corpus) if args.corpus else tr.CORPUS_DIR)
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
    jt.set_defaults(func=cmd_judge_train)
