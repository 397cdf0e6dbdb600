"""What the command modules share: exit codes and the data-file validation loop."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from simulator.errors import DataFileError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_DATA = 2


def paths_or_default(paths: list[str], directory: Path) -> list[Path]:
    from simulator.library import data_files

    if not paths:
        return data_files(directory)
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(data_files(p) if p.is_dir() else [p])
    return out


def validate(paths: list[Path], loader: Callable[[Path], object], kind: str) -> int:
    bad = 0
    for path in paths:
        try:
            loader(path)
        except DataFileError as e:
            print(e.message, file=sys.stderr)
            bad += 1
    if not paths:
        print(f"検証する{kind}ファイルがありません / no {kind} files", file=sys.stderr)
        return EXIT_BAD_DATA
    if bad:
        print(f"{len(paths)} 件中 {bad} 件にエラー / {bad} of {len(paths)} files invalid", file=sys.stderr)
        return EXIT_BAD_DATA
    print(f"{len(paths)} 件すべて有効です / all {len(paths)} files valid")
    return EXIT_OK


def add_session_arguments(sp: argparse.ArgumentParser, *, persona_required: bool) -> None:
    """The options ``simulate`` and ``play`` share."""
    sp.add_argument(
        "--persona", required=persona_required, help="ペルソナ ID（simulate --scripts では all も可）"
    )
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--voice", choices=["scripted", "llm"], default=None)
    sp.add_argument("--judge", choices=["hybrid", "rules", "llm", "both"], default=None)
    sp.add_argument("--max-turns", type=int, default=None)
