"""Does the client listen? (`python -m bench.bench_dialogue`)

Runs every reply script of `bench/reply_scripts.yaml` against every persona with the offline
judge and voice (what `python -m simulator simulate --scripts bench/reply_scripts.yaml` does)
and writes the responsiveness check's figures: lines spoken against their conditions,
lines repeated in a session, closings that contradict the session, how often a trainee move
was answered by a line written for it, and how sessions ended by script kind and difficulty.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.results import write_section

HERE = Path(__file__).resolve().parent
SCRIPT_SETS = (HERE / "reply_scripts.yaml", HERE / "reply_scripts_b.yaml")


def main(argv: list[str] | None = None) -> int:
    from simulator import responsiveness
    from simulator.library import load_personas

    personas = sorted(load_personas().values(), key=lambda p: p.id)
    failed = False
    bodies = []
    for path in SCRIPT_SETS:
        body, bad = _one_set(responsiveness, personas, path)
        bodies.append(body)
        failed = failed or bad
    body = "\n\n".join(bodies)
    print(body)
    write_section("Client responsiveness", body)
    return 1 if failed else 0


def _one_set(responsiveness, personas, path: Path) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    scripts = responsiveness.load_scripts(path)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        report = responsiveness.run(personas, scripts, Path(d))
        took = time.perf_counter() - t0
        ends: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        end_turn: dict[tuple[str, str], list[int]] = defaultdict(list)
        for f in Path(d).glob("*.json"):
            data = json.loads(f.read_text(encoding="utf-8"))
            key = (data["script"]["kind"], "強硬" if "_hard_" in f.name else "標準")
            ends[key][data["outcome"]] += 1
            if data["outcome"] != "max_turns":
                end_turn[key].append(len(data["turns"]))
    kinds = Counter(s.kind for s in scripts)
    answered = ", ".join(
        f"{m} {report.answered[m]}/{report.moves[m]}"
        for m in sorted(report.moves, key=lambda m: -report.moves[m])
    )
    lines = [
        f"### `bench/{path.name}`",
        "",
        "Command: `make bench` (or `.venv/bin/python -m bench.bench_dialogue`; the same check: "
        f"`.venv/bin/python -m simulator simulate --scripts bench/{path.name} --persona all --out DIR`).",
        "",
        f"{len(scripts)} reply scripts ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}) x "
        f"{len(personas)} personas = {report.sessions} sessions, {report.turns} turns, in {took:.1f} s. "
        "A scene still open at a script's last reply closes there (`max_turns`), so every session ends "
        "with a closing line to check.",
        "",
        f"- client lines spoken while their conditions did not hold: **{report.count('violated')}**",
        f"- the same client line twice in a session: **{report.count('repeated')}**",
        f"- closings that contradict the session (conditions, the independent audit, `resolved` after a "
        f"concession): **{report.count('contradicting_closing')}**",
        f"- scenes ended without a closing line / closing lines mid-scene / closings of another outcome: "
        f"{report.count('no_closing')} / {report.count('closing_mid_scene')} / {report.count('wrong_pool')}",
        f"- trainee moves answered by a line written for that move: {answered}",
        "",
        "How the sessions ended (script kind, difficulty: outcomes; mean turn of the ending when the scene "
        "ended before the script did):",
        "",
        "| script kind | difficulty | outcomes | mean ending turn |",
        "|---|---|---|---|",
    ]
    for key in sorted(ends):
        outs = ", ".join(f"{o} {n}" for o, n in ends[key].most_common())
        t = end_turn[key]
        lines.append(
            f"| {key[0]} | {key[1]} | {outs} | {sum(t) / len(t):.1f} |"
            if t
            else f"| {key[0]} | {key[1]} | {outs} | — |"
        )
    return "\n".join(lines), responsiveness.failed(report)


if __name__ == "__main__":
    raise SystemExit(main())
