"""The app's cold start and memory per open practice (`python -m bench.bench_app`).

Cold start: from starting ``app.py`` (offline defaults, a fresh data directory) until the first
page answers 200; the median of 7 (starts vary by a second on this machine). Memory: the app's resident set size after 100 trainees each
opened a practice and sent one reply through ``gradio_client``, less the size before, per
session. Target: cold start <= 6 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SESSIONS = 100


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cold_start() -> float:
    import os
    import subprocess

    from simulator.paths import ROOT
    from tests.browser.conftest import _free_port

    with tempfile.TemporaryDirectory(prefix="kasuhara-bench-cold-") as d:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
        env.update(KASUHARA_DATA_DIR=d, KASUHARA_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                        if r.status == 200:
                            return time.perf_counter() - t0
                except OSError:
                    time.sleep(0.05)
                if time.perf_counter() - t0 > 120:
                    raise RuntimeError("the app did not start")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def memory_per_session() -> tuple[float, int]:
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    from bench.bench_load import PASSWORD, REPLIES, start_app
    from simulator.library import load_personas

    persona = sorted(load_personas())[0]
    with tempfile.TemporaryDirectory(prefix="kasuhara-bench-mem-") as d:
        proc, url = start_app(Path(d), SESSIONS)
        try:
            warm = Client(url, auth=("load000", PASSWORD), verbose=False, analytics_enabled=False)
            warm.predict(api_name=f"/start_{persona}")
            warm.predict(REPLIES[0], False, False, api_name="/send")
            before = _rss_kib(proc.pid)

            def one(i: int) -> Client:
                c = Client(url, auth=(f"load{i:03d}", PASSWORD), verbose=False, analytics_enabled=False)
                c.predict(api_name=f"/start_{persona}")
                c.predict(REPLIES[i % len(REPLIES)], False, False, api_name="/send")
                return c

            with ThreadPoolExecutor(8) as pool:
                clients = list(pool.map(one, range(1, SESSIONS)))
            after = _rss_kib(proc.pid)
            del clients
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return (after - before) / (SESSIONS - 1), after


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    starts = [cold_start() for _ in range(7)]
    per, total = memory_per_session()
    cold = statistics.median(starts)
    cmd = "python -m bench.bench_app" + (" " + " ".join(argv) if argv else "")
    body = "\n".join(
        [
            f"Command: `{cmd}` (part of `make bench`). Cold start: `app.py` started on a fresh data directory "
            "until `/` answers 200 (median of 7; the runs: "
            + ", ".join(f"{s:.1f} s" for s in starts)
            + f"). Memory: the app's RSS after {SESSIONS} trainees each opened a practice and sent a reply, "
            "less the RSS after the first one. Target: cold start <= 6 s.",
            "",
            "| cold start | memory per open practice | RSS with 100 open |",
            "|---|---|---|",
            f"| {cold:.1f} s | {per:.0f} KiB | {total / 1024:.0f} MiB |",
        ]
    )
    print(body)
    if not args.no_write:
        from bench.results import write_section

        write_section("Cold start and memory per practice", body)
    return 0 if cold <= 6 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
