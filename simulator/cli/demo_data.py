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
    dd.set_defaults(func=cmd_demo_data)
