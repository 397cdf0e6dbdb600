"""What opening a report costs: SQL queries and time (`python -m bench.bench_report_load`).

A trainee's 12-turn session with two retry branches, among 30 other sessions of theirs, on
SQLite: the report page's load (the report, its branches, the session for the retry box) is
timed and its SQL statements counted with SQLAlchemy's ``before_cursor_execute`` event.
``--label`` names the figure (the same script measured the code before the change from a
worktree; ``--no-write`` prints without touching BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from sqlalchemy import event

REPLIES = [
    "お話は伺います。",
    "承知しました。今回に限り無償で対応いたします。",
    "恐れ入りますが、契約の範囲外のためお受けできません。",
    "本日の内容は記録し、上長に報告いたします。",
]


def _services() -> Any:
    try:
        from simulator.app.services import Services
    except ImportError:  # the code before the application layer
        from simulator.ui.services import Services  # type: ignore[no-redef]
    return Services


def _open_report(svc: Any, user: Any, sid: str) -> None:
    if hasattr(svc, "report_and_session"):
        svc.report_and_session(user, sid)
    else:  # before: the page asked for the report, then loaded the session again
        svc.report(user, sid)
        svc.load(user, sid)


def measure() -> dict[str, float]:
    from simulator.engine import Engine
    from simulator.library import load_personas
    from simulator.store import Store

    persona = sorted(load_personas())[0]
    engine = Engine(voice="scripted", judge="rules")
    with tempfile.TemporaryDirectory() as d:
        svc = _services()(Store(f"sqlite:///{d}/r.sqlite3"), engine)
        user = svc.store.add_user("bench", "bench-password")
        for n in range(30):  # the trainee's other sessions
            s = svc.start(user, persona, seed=100 + n)
            for r in REPLIES[:3]:
                if s.ended_at:
                    break
                s, _t = svc.reply(user, s.id, r)
        main = svc.start(user, persona, seed=1)
        for i in range(12):
            cur = svc.load(user, main.id)
            if cur.ended_at:
                break
            svc.reply(user, main.id, REPLIES[i % len(REPLIES)])
        svc.end(user, main.id)
        svc.retry(user, main.id, 2, REPLIES[2])
        svc.retry(user, main.id, 3, REPLIES[3])
        count = [0]

        def on_exec(*_a: Any) -> None:
            count[0] += 1

        event.listen(svc.store.engine, "before_cursor_execute", on_exec)
        _open_report(svc, user, main.id)  # warm
        count[0] = 0
        _open_report(svc, user, main.id)
        queries = count[0]
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            _open_report(svc, user, main.id)
            times.append((time.perf_counter() - t0) * 1000)
        event.remove(svc.store.engine, "before_cursor_execute", on_exec)
        svc.store.engine.dispose()
    engine.close()
    return {"queries": queries, "median_ms": statistics.median(times), "turns": len(cur.turns)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="this version")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    m = measure()
    line = (
        f"- {args.label}: {m['queries']:.0f} SQL statements, median {m['median_ms']:.1f} ms per report view"
    )
    print(line)
    if not args.no_write:
        from bench.results import write_section

        body = "\n".join(
            [
                "Command: `make bench` (or `.venv/bin/python -m bench.bench_report_load`). A 12-turn session with",
                "two retry branches among 30 other sessions of the same trainee, SQLite, rules judge; one report",
                "view = the report with its branch comparison and the session for the retry box.",
                "",
                "- before the application layer (commit 60a8a8f, measured from a worktree with",
                f"  `python -m bench.bench_report_load --no-write`): {BEFORE}",
                line,
            ]
        )
        write_section("Report load", body)
    return 0


# measured once on the code before the change (see the section's text)
BEFORE = "28 SQL statements, median 17.9 ms per report view"

if __name__ == "__main__":
    raise SystemExit(main())
