"""Rule judge speed: milliseconds per reply after start-up (`python -m bench.bench_judge`).

Replays the dev set (or any labelled JSONL given as the first argument) several times
through the shared judge and reports the mean, median and 95th percentile per reply, and
the mean of the fastest round (the least disturbed by other load on the machine).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from simulator.models import ContextLine

DEV = Path("/work/shared/eval/dev.jsonl")
OWN = Path(__file__).resolve().parent.parent / "rubrics" / "corpus" / "own_replies.jsonl"
ROUNDS = 5


def main(argv: list[str] | None = None) -> int:
    from simulator.library import get_rubric
    from simulator.scoring import default_judge

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else (DEV if DEV.exists() else OWN)
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    items = [(r["reply"], [ContextLine(**c) for c in r["context"]], r["scenario"]) for r in recs]
    rubric = get_rubric()
    judge = default_judge()
    t0 = time.perf_counter()
    judge.assess(items[0][0], items[0][1], items[0][2], rubric)  # start-up: analyser + lexicons
    startup = (time.perf_counter() - t0) * 1000
    times = []
    rounds = []
    for _ in range(ROUNDS):
        r0 = time.perf_counter()
        for reply, ctx, scenario in items:
            t = time.perf_counter()
            judge.assess(reply, ctx, scenario, rubric)
            times.append((time.perf_counter() - t) * 1000)
        rounds.append((time.perf_counter() - r0) * 1000 / len(items))
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"rule judge: {len(items)} replies x {ROUNDS} rounds from {path.name}: "
        f"mean {statistics.mean(times):.2f} ms, median {statistics.median(times):.2f} ms, "
        f"p95 {p95:.2f} ms, best round {min(rounds):.2f} ms per reply (start-up {startup:.0f} ms)"
    )
    from bench.results import write_section

    write_section(
        "Rubric judge speed",
        "Command: `make bench` (or `.venv/bin/python -m bench.bench_judge`); target <= 2 ms, goal <= 1 ms.\n\n"
        f"- {len(items)} replies x {ROUNDS} rounds from {path.name}: mean {statistics.mean(times):.2f} ms, "
        f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms per reply; "
        f"start-up (dictionary and lexicons, once per process) {startup:.0f} ms",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
