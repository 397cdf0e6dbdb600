"""Judge speed: milliseconds per reply after start-up, rule and hybrid (`python -m bench.bench_judge`).

Replays labelled replies from the repository's corpus (or any labelled JSONL given as the
first argument) several times through each shared judge and reports the mean, median and
95th percentile per reply. Start-up is measured in this process before anything is loaded:
the analyser and lexicons for the rules, then the model file for the hybrid.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from simulator.models import ContextLine

CORPUS = Path(__file__).resolve().parent.parent / "rubrics" / "corpus"
FILES = ("own_replies.jsonl", "batch_P.jsonl")  # short and long replies, several styles
ROUNDS = 3


def _measure(judge, items, rubric) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    times: list[float] = []
    rounds: list[float] = []
    for _ in range(ROUNDS):
        r0 = time.perf_counter()
        for reply, ctx, scenario in items:
            t = time.perf_counter()
            judge.assess(reply, ctx, scenario, rubric)
            times.append((time.perf_counter() - t) * 1000)
        rounds.append((time.perf_counter() - r0) * 1000 / len(items))
    times.sort()
    return times, rounds


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(args[0])] if args else [CORPUS / f for f in FILES]
    recs = [json.loads(x) for p in paths for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    items = [(r["reply"], [ContextLine(**c) for c in r["context"]], r["scenario"]) for r in recs]

    t0 = time.perf_counter()
    from simulator.library import get_rubric
    from simulator.scoring import default_judge, rule_judge

    rubric = get_rubric()
    rules = rule_judge()
    rules.assess(items[0][0], items[0][1], items[0][2], rubric)  # analyser + lexicons
    rules_startup = (time.perf_counter() - t0) * 1000
    t1 = time.perf_counter()
    hybrid = default_judge()  # the model file, loaded once
    hybrid.assess(items[0][0], items[0][1], items[0][2], rubric)
    hybrid_startup = (time.perf_counter() - t1) * 1000
    # the examples' index (for the reasons of overruled scores) builds in the background
    t2 = time.perf_counter()
    hybrid.model._indexed.wait()
    index_ms = (time.perf_counter() - t2) * 1000

    lines = []
    for name, judge, startup in (("hybrid", hybrid, hybrid_startup), ("rules", rules, rules_startup)):
        times, rounds = _measure(judge, items, rubric)
        p95 = times[int(len(times) * 0.95) - 1]
        line = (
            f"{name}: {len(items)} replies x {ROUNDS} rounds: mean {statistics.mean(times):.2f} ms, "
            f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.1f} ms per reply, "
            f"best round {min(rounds):.2f} ms; start-up {startup:.0f} ms"
        )
        print(line)
        lines.append(f"- {line}")
    from bench.results import write_section

    write_section(
        "Rubric judge speed",
        "Command: `make bench` (or `.venv/bin/python -m bench.bench_judge`); replies from "
        + ", ".join(f"`rubrics/corpus/{p.name}`" for p in paths)
        + ". Targets: hybrid <= 1 ms per reply (p95 <= 2 ms), start-up <= 300 ms. The hybrid's start-up "
        "is what it adds after the rules' (the model file); the rules' includes the Sudachi dictionary.\n\n"
        + "\n".join(lines)
        + f"\n- the hybrid's index of labelled examples (for the reasons of overruled scores) finished "
        f"{index_ms:.0f} ms after start-up, in a background thread",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
