"""``kasuhara schema``."""

from __future__ import annotations

import argparse

from simulator.cli._common import EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from simulator.library import write_schemas

    for p in write_schemas():
        print(f"書き出しました / wrote {p}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sch = sub.add_parser("schema", help="JSON Schema を書き出す / write JSON Schemas beside the data")
    sch.set_defaults(func=cmd_schema)
