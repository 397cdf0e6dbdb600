"""A sample of transcripts for a human (or independent) read of the client's responsiveness.

    .venv/bin/python -m simulator simulate --scripts bench/reply_scripts.yaml --persona all \\
        --out DIR --seed SEED
    .venv/bin/python -m bench.sample_transcripts DIR --per-persona 3 --seed N > sample.md

Writes, for a random choice of ``--per-persona`` sessions of each persona, the opening, every
trainee reply and every client line in plain text, with nothing else (no scores, no state), so
the reader judges only what a trainee would see.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--per-persona", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prefix", default="T")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    files = sorted(args.dir.glob("*.json"))
    rng.shuffle(files)
    chosen: dict[str, list[Path]] = {}
    for f in files:
        pid = f.name.split("__")[0]
        if len(chosen.setdefault(pid, [])) < args.per_persona:
            chosen[pid].append(f)
    out, n = [], 0
    for pid in sorted(chosen):
        for f in chosen[pid]:
            n += 1
            d = json.loads(f.read_text(encoding="utf-8"))
            lines = [
                f"# {args.prefix}{n:02d} {pid} / script {d['script']['id']} ({d['script']['kind']})",
                f"結果: {d['outcome']} — {d['ending_reason']}",
                f"相手: {d['opening']}",
            ]
            for t in d["turns"]:
                lines.append(f"受講者[{t['index']}]: {t['trainee']}")
                if t.get("client"):
                    lines.append(f"相手[{t['index']}]: {t['client']}")
                if t.get("closing"):
                    lines.append(f"相手（締め）[{t['index']}]: {t['closing']}")
            out.append("\n".join(lines))
    print("\n\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
