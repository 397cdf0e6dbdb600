"""``kasuhara play``: practise in the terminal."""

from __future__ import annotations

import argparse

from simulator.cli._common import EXIT_OK, add_session_arguments


def cmd_play(args: argparse.Namespace) -> int:
    from simulator import director
    from simulator.engine import Engine
    from simulator.library import get_persona
    from simulator.models import OUTCOME_LABELS, Outcome
    from simulator.transcripts import fmt_scores

    persona = get_persona(args.persona)
    engine = Engine(voice=args.voice, judge=args.judge, max_turns=args.max_turns or director.MAX_TURNS)
    session = engine.start(persona, seed=args.seed)
    print(f"【{persona.title}】 {persona.client.company} {persona.client.role} {persona.client.name}")
    print(f"場面: {persona.setting}")
    print("（空行で終了 / empty line ends）\n")
    print(f"相手: {session.opening}")
    try:
        while session.outcome is Outcome.in_progress:
            try:
                reply = input("あなた> ").strip()
            except EOFError:
                reply = ""
            if not reply:
                engine.end(session)
                break
            t = engine.take_turn(session, reply, persona)
            a = t.assessment
            clock = f"  模擬経過 {t.state.elapsed_minutes:.0f}分" if persona.minutes_per_turn else ""
            print(f"  [{fmt_scores(a.score_map() if a else {})}]  圧力 {t.state.pressure}{clock}")
            for n in t.notices:
                print(f"  ※ {n}")
            print(f"相手: {t.client_after or t.closing}")
        print(f"\n結果: {OUTCOME_LABELS[session.outcome]}  {session.state.ending_reason}")
        from simulator.report import build_report

        rep = build_report(session, persona, engine.rubric)
        print(f"総合評価: {rep.grade} ({rep.overall})")
        for item in rep.practise_next:
            print(f"次に練習すること: {item}")
    finally:
        engine.close()
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("play", help="端末で練習 / practise in the terminal")
    add_session_arguments(sp, persona_required=True)
    sp.set_defaults(func=cmd_play)
