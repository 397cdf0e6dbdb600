"""LLM mode with a fixed model delay (`python -m bench.bench_llm`).

A local OpenAI-compatible server (the one the tests use, ``tests/support/openai_server.py``)
answers the persona voice and the LLM judge, each after a fixed 300 ms; the app runs with
``KASUHARA_VOICE=llm`` and ``KASUHARA_JUDGE=both`` and is driven through ``gradio_client``
from this process. The ideal turn is 300 ms (voice and judge at the same time, not one after
the other); the figure is the measured turn over that ideal (target <= 1.1), and the time until
the first character of the client's line reaches the trainee.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DELAY = 0.3
LINE = "方針だと？そんな言い訳が通ると思うなよ。こっちは困ってるんだ。"
TURNS = 20


def shown_lines(outputs: Any) -> int:
    """How many of the client's lines (LINE, begun) the chat in ``outputs`` shows."""
    for out in outputs if isinstance(outputs, list | tuple) else []:
        if isinstance(out, list) and out and all(isinstance(m, dict) and "role" in m for m in out):
            return sum(1 for m in out if m["role"] == "assistant" and LINE[:3] in str(m.get("content")))
    return 0


def main(argv: list[str] | None = None) -> int:
    from gradio_client import Client

    from bench.bench_load import PASSWORD, REPLIES, TLS, start_app
    from simulator.library import load_personas
    from tests.support.data import verdict
    from tests.support.openai_server import OpenAIServer, Reply, Slow, reply_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    persona = sorted(load_personas())[0]

    def respond(body: dict[str, Any]) -> Any:
        structured = "tools" in body or "response_format" in body
        return Slow(
            DELAY, reply_json(verdict(firm="お受けできません")) if structured else Reply(LINE, chunk_size=6)
        )

    turns: list[float] = []
    firsts: list[float] = []
    with OpenAIServer(respond) as server, tempfile.TemporaryDirectory(prefix="kasuhara-bench-llm-") as d:
        env = {"KASUHARA_LLM_BASE_URL": server.base_url, "KASUHARA_PERSONA_MODEL": "bench-persona",
               "KASUHARA_JUDGE_MODEL": "bench-judge", "KASUHARA_VOICE": "llm", "KASUHARA_JUDGE": "both",
               "KASUHARA_LLM_API_KEY": "bench"}  # fmt: skip
        proc, url = start_app(Path(d), 1, env)
        try:
            c = Client(
                url, auth=("load000", PASSWORD), verbose=False, analytics_enabled=False, ssl_verify=TLS
            )  # type: ignore[arg-type]
            c.predict(api_name=f"/start_{persona}")
            before = 0  # the client's lines already in the chat (every one of them is LINE)
            for n in range(TURNS):
                t0 = time.perf_counter()
                job = c.submit(REPLIES[n % 2], False, False, api_name="/send")
                first = None
                while not job.done():
                    outs = job.outputs()
                    # this turn's line has begun once the chat holds one more of it than before
                    if first is None and outs and shown_lines(outs[-1]) > before:
                        first = time.perf_counter() - t0
                    time.sleep(0.002)
                out = job.result()
                before = shown_lines(out)
                total = time.perf_counter() - t0
                if first is None:
                    first = total
                turns.append(total)
                firsts.append(first)
                if "練習は終了しました" in str(out):
                    c.predict(api_name=f"/start_{persona}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    p50 = statistics.median(turns)
    ratio = p50 / DELAY
    cmd = "python -m bench.bench_llm" + (" " + " ".join(argv) if argv else "")
    body = "\n".join(
        [
            f"Command: `{cmd}` (part of `make bench`). The app with `KASUHARA_VOICE=llm`, `KASUHARA_JUDGE=both` "
            f"against the tests' local OpenAI-compatible server answering voice and judge after {DELAY * 1000:.0f} ms "
            f"each; {TURNS} turns through `gradio_client`. Ideal turn: {DELAY * 1000:.0f} ms (voice and judge "
            "concurrent). The first character: when the chat first shows this turn's line. Target: ratio <= 1.1.",
            "",
            "| turn p50 | turn max | ratio to the ideal | first character of the line (p50) |",
            "|---|---|---|---|",
            f"| {p50 * 1000:.0f} ms | {max(turns) * 1000:.0f} ms | {ratio:.2f} | {statistics.median(firsts) * 1000:.0f} ms |",
        ]
    )
    print(body)
    if not args.no_write:
        from bench.results import write_section

        write_section("LLM mode with a 300 ms model", body)
    return 0 if ratio <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
