"""``kasuhara demo-data``."""

from __future__ import annotations

import argparse


def cmd_demo_data(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo_data

    return run_demo_data(args)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dd = sub.add_parser("demo-data", help="デモデータを作成 / fill the store with simulated sessions")
    dd.add_argument("--trainees", type=int, default=5)
    dd.add_argument("--sessions", type=int, default=3, help="受講者1人あたり / per trainee")
    dd.add_argument("--seed", type=int, default=0)
    dd.add_argument("--departments", type=int, default=3, help="部署の数（1〜20） / number of departments")
    dd.add_argument(
        "--days",
        type=int,
        default=None,
        help="この日数に散らばらせる / spread the sessions over this many days",
    )
    dd.add_argument(
        "--fast",
        action="store_true",
        help="雛形セッションの複製で作る（500件を超えると自動） / copy template sessions (automatic above 500)",
    )
    dd.set_defaults(func=cmd_demo_data)
