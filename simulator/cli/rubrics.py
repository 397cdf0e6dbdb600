"""``kasuhara rubrics validate|lock``."""

from __future__ import annotations

import argparse
import sys

from simulator.cli._common import EXIT_BAD_DATA, EXIT_OK, paths_or_default, validate


def cmd_rubrics_validate(args: argparse.Namespace) -> int:
    from simulator.library import load_rubric
    from simulator.paths import RUBRICS_DIR

    return validate(paths_or_default(args.paths, RUBRICS_DIR), load_rubric, "ルーブリック")


def cmd_rubrics_lock(args: argparse.Namespace) -> int:
    from simulator.library import get_rubric
    from simulator.scoring.version import write_lock

    errors = write_lock([get_rubric()])
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print("rubrics/versions.lock を更新しました / lock written")
    return EXIT_BAD_DATA if errors else EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rubrics = sub.add_parser("rubrics", help="ルーブリックの検証 / validate rubrics")
    rsub = rubrics.add_subparsers(dest="rubrics_command", required=True)
    rv = rsub.add_parser("validate", help="検証 / validate files")
    rv.add_argument("paths", nargs="*")
    rv.set_defaults(func=cmd_rubrics_validate)

    rl = rsub.add_parser(
        "lock", help="内容のハッシュを versions.lock に記録 / record the content hash of each version"
    )
    rl.set_defaults(func=cmd_rubrics_lock)
