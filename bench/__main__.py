"""Run every ``bench/bench_*.py`` module's ``main()``."""

import importlib
import sys
from pathlib import Path

failed = 0
# The judge first: its start-up figure needs a process where the analyser is not loaded yet.
paths = sorted(Path(__file__).parent.glob("bench_*.py"), key=lambda p: (p.stem != "bench_judge", p.stem))
for path in paths:
    mod = importlib.import_module(f"bench.{path.stem}")
    failed += bool(mod.main([]))
sys.exit(1 if failed else 0)
