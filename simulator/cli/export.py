"""``kasuhara export csv|xapi``: score exports for HR and an LMS (see simulator/app/exports.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from simulator.cli._common import EXIT_BAD_DATA, EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from simulator.app import exports as ex
    from simulator.store import Store

    dates: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        value = getattr(args, name, None)
        dates[name] = None
        if value:
            try:
                dates[name] = ex.parse_day(value)
            except ValueError:
                print(f"--{name} は 2026-04-01 のような日付です / bad date {value!r}", file=sys.stderr)
                return EXIT_BAD_DATA
    store = Store()
    try:
        rows = ex.session_rows(store, since=dates["since"], until=dates["until"],
                               departments=(args.department,) if args.department else (),
                               pseudonymise=args.pseudonymise)  # fmt: skip
    finally:
        store.engine.dispose()
    if args.kind == "xapi":
        import json

        text = json.dumps(ex.statements(rows), ensure_ascii=False, indent=2) + "\n"
    else:
        text = ex.criteria_csv(rows) if args.per == "criterion" else ex.sessions_csv(rows)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8", newline="")
        print(f"{args.out}: {len(rows)} セッション / sessions", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ex = sub.add_parser("export", help="成績の書き出し（CSV / xAPI） / export scores for HR and an LMS")
    ex.add_argument("kind", choices=["csv", "xapi"])
    ex.add_argument(
        "--since", default=None, help="この日以降に始めたセッション（YYYY-MM-DD） / sessions since"
    )
    ex.add_argument(
        "--until", default=None, help="この日より前に始めたセッション（YYYY-MM-DD） / sessions before"
    )
    ex.add_argument("--department", default=None, help="部署 / department")
    ex.add_argument(
        "--pseudonymise", action="store_true", help="氏名・メールなどを鍵付きハッシュに / keyed-hash names"
    )
    ex.add_argument("--per", choices=["session", "criterion"], default="session",
                    help="CSV の行: セッションごと / セッション×基準ごと")  # fmt: skip
    ex.add_argument("--out", default=None, help="出力先（省略時は標準出力） / output file")
    ex.set_defaults(func=cmd_export)
