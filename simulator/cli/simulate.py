"""``kasuhara simulate``: a session from a replies file, or reply scripts against every persona."""

from __future__ import annotations

import argparse
import json
import sys

from simulator.cli._common import EXIT_BAD_DATA, EXIT_FAIL, EXIT_OK, add_session_arguments


def _read_replies(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [ln.rstrip("\n") for ln in f if ln.strip()]


def cmd_simulate(args: argparse.Namespace) -> int:
    if getattr(args, "scripts", None):
        return _run_scripts(args)
    if not args.persona:
        print("--persona を指定してください / --persona is required", file=sys.stderr)
        return EXIT_BAD_DATA
    try:
        replies = _read_replies(args.replies)
    except OSError as e:
        print(f"返答ファイルを読めません / cannot read replies: {e}", file=sys.stderr)
        return EXIT_BAD_DATA

    from simulator import director
    from simulator.engine import Engine
    from simulator.library import get_persona
    from simulator.models import Outcome
    from simulator.transcripts import session_json, transcript_text

    persona = get_persona(args.persona)
    engine = Engine(voice=args.voice, judge=args.judge, max_turns=args.max_turns or director.MAX_TURNS)
    try:
        session = engine.start(persona, seed=args.seed)
        for reply in replies:
            if session.outcome is not Outcome.in_progress:
                break
            engine.take_turn(session, reply, persona)
        data = session_json(session, persona, engine.rubric)
    finally:
        engine.close()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(transcript_text(data))
    return EXIT_OK


def _run_scripts(args: argparse.Namespace) -> int:
    from pathlib import Path

    from simulator import responsiveness
    from simulator.library import get_persona, personas

    try:
        scripts = responsiveness.load_scripts(Path(args.scripts))
    except (OSError, ValueError, KeyError) as e:
        print(f"返答スクリプトを読めません / cannot read scripts: {e}", file=sys.stderr)
        return EXIT_BAD_DATA
    chosen = sorted(personas().values(), key=lambda p: p.id)
    if args.persona and args.persona != "all":
        chosen = [get_persona(args.persona)]
    report = responsiveness.run(chosen, scripts, Path(args.out) if args.out else None, seed=args.seed)
    if args.json:
        print(json.dumps(responsiveness.as_json(report), ensure_ascii=False, indent=2))
    else:
        print(responsiveness.summary(report))
    return EXIT_FAIL if responsiveness.failed(report) else EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("simulate", help="返答ファイルでセッションを実行 / run a session from a replies file")
    add_session_arguments(sp, persona_required=False)
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--replies", help="1行1返答のファイル / one reply per line")
    src.add_argument(
        "--scripts",
        help="返答スクリプト集（YAML）を全ペルソナで実行し、応答の整合性を確認 / "
        "run reply scripts against personas and check the client's responsiveness",
    )
    sp.add_argument("--out", help="--scripts: 会話記録（JSON）の書き出し先 / where transcripts are written")
    sp.add_argument("--json", action="store_true", help="JSON で出力 / print JSON")
    sp.set_defaults(func=cmd_simulate)
