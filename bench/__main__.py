"""Run every ``bench/bench_*.py`` module's ``main()``."""

import importlib
import sys
from pathlib import Path

failed = 0
for path in sorted(Path(__file__).parent.glob("bench_*.py")):
    mod = importlib.import_module(f"bench.{path.stem}")
    failed += bool(mod.main([]))
sys.exit(1 if failed else 0)
