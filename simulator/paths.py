"""Where the shipped data lives (the repository root when run from a checkout)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("KASUHARA_ROOT", Path(__file__).resolve().parent.parent))
PERSONAS_DIR = Path(os.environ.get("KASUHARA_PERSONAS_DIR", ROOT / "personas"))
RUBRICS_DIR = ROOT / "rubrics"
PROMPTS_DIR = ROOT / "prompts"
MANUAL_PATH = ROOT / "manual" / "customer-harassment-manual.txt"


def data_dir() -> Path:
    """The directory for the SQLite store and exports (``KASUHARA_DATA_DIR``)."""
    return Path(os.environ.get("KASUHARA_DATA_DIR", ROOT / "data"))
