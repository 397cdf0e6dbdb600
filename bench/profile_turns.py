"""Where a turn's time goes in the running app (`python -m bench.profile_turns`).

Starts the app as ``bench.bench_load`` does, samples it with py-spy (50 Hz, every thread, idle
frames dropped) while 10 trainees send replies back to back for 20 s, and prints the share of
busy samples under the frames that matter: our handler and services, the judge, SQL, Gradio's
queue and output processing, and the HTTP stack. Not part of ``make bench`` (it needs py-spy,
a dev dependency); its output is quoted in BENCHMARKS.md.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROUPS = {
    "on_send (the turn handler, all of it)": "build.<locals>.on_send",
    "Services.reply_stream (engine + store)": "Services.reply_stream",
    "Engine.stream_turn (judge, director, voice)": "Engine.stream_turn",
    "HybridJudge.assess": "HybridJudge.assess",
    "Store.record_turn (SQL)": "Store.record_turn",
    "Services.load (reading the session)": "Services.load",
    "Blocks.postprocess_data (outputs to JSON)": "Blocks.postprocess_data",
    "Queue.process_events (Gradio's queue)": "Queue.process_events",
    "HTTP stack (uvicorn, Starlette, middleware)": "RequestResponseCycle.run_asgi",
    "Guard (our middleware)": "Guard.__call__",
    "argon2 (sign-in)": "verify_secret",
}
IDLE = ("select", "epoll", "wait (threading", "_worker (concurrent", "sleep", "poll")


def main(argv: list[str] | None = None) -> int:
    from bench.bench_load import run, start_app
    from simulator.library import load_personas

    out = Path(tempfile.mkdtemp()) / "profile.txt"
    with tempfile.TemporaryDirectory(prefix="kasuhara-profile-") as d:
        proc, url = start_app(Path(d), 10)
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(proc.pid), "-d", "25", "-r", "50",
             "-f", "raw", "-o", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1)
        r = run(url, 10, 20, 0, sorted(load_personas())[0])
        spy.wait()
        proc.terminate()
        proc.wait(timeout=30)
    busy = 0
    hits: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        if any(k in frames[-1] for k in IDLE):
            continue
        busy += int(n)
        text = ";".join(re.sub(r" \(.*?\)", "", f) for f in frames)
        for label, frame in GROUPS.items():
            if frame in text:
                hits[label] += int(n)
    print(
        f"10 trainees back to back for 20 s: {r['turns']} turns, {r['turns_per_s']:.1f}/s, p50 {r['p50_ms']:.0f} ms"
    )
    print(f"busy samples: {busy} (of {25 * 50} per fully busy thread over the 25 s)")
    for label in GROUPS:
        print(f"| {label} | {hits[label] / max(1, busy) * 100:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
