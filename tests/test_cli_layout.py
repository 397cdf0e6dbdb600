"""The command line is one module per command: ``simulator/cli/<command>.py`` registers its own
parser and holds its own ``cmd_*`` functions; the engine holds no CLI code."""

from __future__ import annotations

import argparse
import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from simulator.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]

# today's commands, in the order of ``kasuhara --help``, and the module that owns each
COMMANDS = {
    "personas": "personas",
    "rubrics": "rubrics",
    "judge": "judge",
    "schema": "schema",
    "score": "score",
    "eval": "evaluate",  # not ``eval``: that would shadow the builtin
    "simulate": "simulate",
    "play": "play",
    "users": "users",
    "demo-data": "demo_data",
    "db": "db",
    "export": "export",
    "serve": "serve",
}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    assert parser._subparsers is not None
    for action in parser._subparsers._group_actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


def _funcs(parser: argparse.ArgumentParser) -> Iterator[object]:
    """Every ``func`` default set on this parser or on any parser below it."""
    if "func" in parser._defaults:
        yield parser._defaults["func"]
    if parser._subparsers is not None:
        for child in _subcommands(parser).values():
            yield from _funcs(child)


def test_every_command_is_registered_by_its_own_module():
    commands = _subcommands(build_parser())
    assert list(commands) == list(COMMANDS)
    owners: dict[str, str] = {}
    for name, parser in commands.items():
        funcs = list(_funcs(parser))
        assert funcs, f"{name}: no command function"
        modules = {f.__module__ for f in funcs}  # type: ignore[attr-defined]
        assert modules == {f"simulator.cli.{COMMANDS[name]}"}, (name, modules)
        owners[name] = modules.pop()
    assert len(set(owners.values())) == len(owners)


def test_each_command_module_registers_itself():
    for module_name in COMMANDS.values():
        module = importlib.import_module(f"simulator.cli.{module_name}")
        assert callable(module.register), module_name
        ap = argparse.ArgumentParser()
        module.register(ap.add_subparsers(dest="command"))
        assert set(_subcommands(ap)) == {k for k, v in COMMANDS.items() if v == module_name}


def test_engine_holds_no_cli_code():
    tree = ast.parse((ROOT / "simulator" / "engine.py").read_text(encoding="utf-8"))
    names = {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    assert not {n for n in names if n.startswith("run_")}, names
    assert not names & {"session_json", "_turn_json", "_read_replies", "_fmt_scores", "_transcript_text"}
    imported: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            imported |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            imported.add(n.module or "")
    assert "argparse" not in imported
    assert not {m for m in imported if m.startswith("simulator.cli")}


def test_personas_list_does_not_import_gradio_or_the_analyser():
    probe = (
        "import sys, simulator.cli as c; c.main(['personas','list']); "
        "print([m for m in ('gradio', 'sudachipy', 'simulator.scoring.analysis', 'simulator.engine') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_python_m_simulator_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "{" + ",".join(COMMANDS) + "}" in out
