"""Per-turn time of the offline path (`python -m bench.bench_engine`).

One turn = hybrid judge (the default) + director + scripted voice, for every persona, over a mix of
conceding, firm, hostile and neutral replies; then the same with the SQLite store writing
every turn (what the app does), to show what persistence adds.
"""

from __future__ import annotations

import statistics
import tempfile
import time

from bench.results import write_section

REPLIES = [
    "承知しました。今回だけ特別に対応いたします。",
    "お話は伺います。ただ、契約の範囲外のご要望はお受けできません。",
    "は？そんなの知りませんよ。",
    "詳細を確認させていただけますか。",
    "本日の内容は記録し、上長に報告いたします。",
    "恐れ入りますが、会社の方針として対応いたしかねます。",
]


def _turns(engine, personas, store=None, user=None) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for n, p in enumerate(personas):
        for seed in range(3):
            s = engine.start(p, seed=seed, user_id=user.id if user else "bench")
            if store is not None:
                store.create_session(s, user)
            for i in range(6):
                if s.ended_at:
                    break
                t0 = time.perf_counter()
                turn = engine.take_turn(s, REPLIES[(i + n + seed) % len(REPLIES)], p)
                if store is not None:
                    store.record_turn(s, user, turn)
                times.append((time.perf_counter() - t0) * 1000)
    return times


def _fmt(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    return f"mean {statistics.mean(times):.2f} ms, median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms ({len(times)} turns)"


def main(argv: list[str] | None = None) -> int:
    from simulator.engine import Engine
    from simulator.library import load_personas
    from simulator.store import Store

    personas = sorted(load_personas().values(), key=lambda p: p.id)
    engine = Engine(voice="scripted")  # the default judge: hybrid
    _turns(engine, personas[:1])  # warm-up: analyser, lexicons
    plain = _turns(engine, personas)
    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{d}/bench.sqlite3")
        user = store.add_user("bench", "bench-password")
        stored = _turns(engine, personas, store, user)
    engine.close()
    lines = [
        "Command: `make bench` (or `.venv/bin/python -m bench.bench_engine`).",
        "",
        f"- scripted turn (hybrid judge + director + scripted voice): {_fmt(plain)}",
        f"- the same turn written to SQLite (WAL) as the app does: {_fmt(stored)}",
    ]
    print("\n".join(lines))
    write_section("Scripted session turn", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
