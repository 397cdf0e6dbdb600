"""The command line: ``python -m simulator`` (also installed as ``kasuhara``).

One module per top-level command, each with a ``register(subparsers)`` that adds its parser
and the ``cmd_*`` functions it runs. Each sub-command imports what it needs when it runs,
so ``personas list`` does not pay for the analyser or Gradio.
"""

from __future__ import annotations

import argparse
import sys

from simulator.cli import (
    db,
    demo_data,
    evaluate,
    export,
    judge,
    personas,
    play,
    rubrics,
    schema,
    score,
    serve,
    simulate,
    users,
)
from simulator.cli._common import EXIT_BAD_DATA, EXIT_FAIL, EXIT_OK
from simulator.errors import DataFileError

__all__ = ["COMMANDS", "EXIT_BAD_DATA", "EXIT_FAIL", "EXIT_OK", "build_parser", "main"]

# the order of ``kasuhara --help``
COMMANDS = (
    personas,
    rubrics,
    judge,
    schema,
    score,
    evaluate,
    simulate,
    play,
    users,
    demo_data,
    db,
    export,
    serve,
)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="kasuhara",
        description="カスハラ対応ロールプレイ訓練シミュレータ / customer-harassment role-play trainer",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DataFileError as e:
        print(e.message, file=sys.stderr)
        return EXIT_BAD_DATA
    except KeyError as e:
        print(str(e.args[0]) if e.args else str(e), file=sys.stderr)
        return EXIT_BAD_DATA
    except BrokenPipeError:
        return EXIT_OK
