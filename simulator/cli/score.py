"""``kasuhara score``."""

from __future__ import annotations

import argparse


def cmd_score(args: argparse.Namespace) -> int:
    from simulator.scoring.cli import run_score

    return run_score(args.in_path, args.out_path, args.judge)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sc = sub.add_parser("score", help="返答を採点 / score replies (JSONL)")
    sc.add_argument("--in", dest="in_path", required=True, help="入力 JSONL / input JSONL")
    sc.add_argument("--out", dest="out_path", default="-", help="出力 JSONL（- は標準出力）")
    sc.add_argument("--judge", default="hybrid", choices=["hybrid", "rules", "llm", "both"])
    sc.set_defaults(func=cmd_score)
