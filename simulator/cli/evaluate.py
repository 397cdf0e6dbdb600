"""``kasuhara eval`` (the module is not named ``eval`` so as not to shadow the builtin)."""

from __future__ import annotations

import argparse
import sys

from simulator.cli._common import EXIT_BAD_DATA


def cmd_eval(args: argparse.Namespace) -> int:
    from simulator.evaluation import run_cv, run_eval

    if args.cv:
        return run_cv(as_json=args.json)
    if args.overrides:
        from simulator.evaluation import run_eval_overrides

        return run_eval_overrides(args.judge, as_json=args.json)
    if not args.file:
        print("評価するファイルを指定してください / give a labelled JSONL file (or --cv)", file=sys.stderr)
        return EXIT_BAD_DATA
    return run_eval(args.file, args.judge, as_json=args.json)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser("eval", help="判定器をラベルと比較 / evaluate a judge against labels")
    ev.add_argument("file", nargs="?")
    ev.add_argument(
        "--judge",
        default=None,
        choices=["hybrid", "rules", "llm"],
        help="省略時は hybrid と rules を並べて表示 / default: hybrid and rules side by side",
    )
    ev.add_argument("--cv", action="store_true", help="学習コーパスの交差検証 / cross-validate on the corpus")
    ev.add_argument("--json", action="store_true", help="指標を JSON で出力 / print metrics as JSON")
    ev.add_argument(
        "--overrides",
        action="store_true",
        help="研修担当の修正だけに対して測る（修正された基準のみ） / measure against trainers' overrides alone",
    )
    ev.set_defaults(func=cmd_eval)
