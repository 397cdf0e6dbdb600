"""Where the shipped data lives (the repository root when run from a checkout).

The personas and data directories come from the settings (``[storage]`` in ``kasuhara.toml``,
overridden by ``KASUHARA_PERSONAS_DIR`` / ``KASUHARA_DATA_DIR``); see ``simulator.config``.
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.config import ConfigError, load_settings, repo_root

ROOT = repo_root()


def _personas_dir() -> Path:
    # Read once at import. A broken kasuhara.toml must not make this import crash: fall back to
    # the environment and the default here, and let the app's start report the ConfigError.
    try:
        return load_settings().personas_dir
    except ConfigError:
        return Path(os.environ.get("KASUHARA_PERSONAS_DIR", "").strip() or ROOT / "personas")


PERSONAS_DIR = _personas_dir()
RUBRICS_DIR = ROOT / "rubrics"
PROMPTS_DIR = ROOT / "prompts"
MANUAL_PATH = ROOT / "manual" / "customer-harassment-manual.txt"


def data_dir() -> Path:
    """The directory for the SQLite store and exports (``KASUHARA_DATA_DIR`` or ``[storage] data_dir``).

    Read on every call, so a changed environment applies; a broken ``kasuhara.toml`` raises its
    ``ConfigError`` here rather than silently writing somewhere else.
    """
    return load_settings().data_dir
