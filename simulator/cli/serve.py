"""``kasuhara serve``: the browser app."""

from __future__ import annotations

import argparse


def cmd_serve(args: argparse.Namespace) -> int:
    from simulator.ui.app import main as serve

    return serve()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sv = sub.add_parser("serve", help="ブラウザアプリを起動 / start the browser app")
    sv.set_defaults(func=cmd_serve)
