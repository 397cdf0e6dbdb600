"""Account management from the command line, and the administrator of the first start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from simulator.accounts import ensure_admin
from simulator.paths import ROOT
from simulator.store import Store


def users(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env["KASUHARA_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "simulator", "users", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_add_list_disable_and_reset(tmp_path: Path) -> None:
    r = users(tmp_path, "add", "yamada", "--role", "trainer", "--department", "人事部")
    assert r.returncode == 0, r.stderr
    assert "研修担当" in r.stdout and "初期パスワード" in r.stdout
    password = r.stdout.strip().splitlines()[-1].split(": ")[-1]
    store = Store(f"sqlite:///{tmp_path / 'kasuhara.sqlite3'}")
    assert store.authenticate("yamada", password) is not None

    listed = json.loads(users(tmp_path, "list", "--json").stdout)
    assert listed == [
        {
            "username": "yamada",
            "display_name": "yamada",
            "role": "trainer",
            "department": "人事部",
            "active": True,
            "scope": [],
        }
    ]

    r = users(tmp_path, "reset-password", "yamada", "--password", "a-new-password")
    assert r.returncode == 0 and store.authenticate("yamada", "a-new-password") is not None
    assert store.authenticate("yamada", password) is None

    assert users(tmp_path, "disable", "yamada").returncode == 0
    assert store.authenticate("yamada", "a-new-password") is None
    r = users(tmp_path, "enable", "yamada")
    assert r.returncode == 0 and "有効にしました" in r.stdout
    assert store.authenticate("yamada", "a-new-password") is not None


def test_errors_are_named_in_japanese(tmp_path: Path) -> None:
    assert users(tmp_path, "add", "dup", "--password", "long-enough").returncode == 0
    r = users(tmp_path, "add", "dup", "--password", "long-enough")
    assert r.returncode == 2 and "既に存在します" in r.stderr
    r = users(tmp_path, "disable", "ghost")
    assert r.returncode == 2 and "いません" in r.stderr


def test_first_start_creates_one_administrator(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'k.sqlite3'}")
    password = ensure_admin(store)
    assert password and store.authenticate("admin", password).role == "admin"  # type: ignore[union-attr]
    assert ensure_admin(store) is None


def test_the_app_refuses_to_start_on_a_broken_persona_naming_file_and_field(tmp_path: Path) -> None:
    personas = tmp_path / "personas"
    personas.mkdir()
    src = sorted((ROOT / "personas").glob("*.yaml"))[0]
    broken = personas / src.name
    broken.write_text(
        src.read_text(encoding="utf-8").replace("physical_risk: false", "physical_risk: たぶん"),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env.update(KASUHARA_DATA_DIR=str(tmp_path), KASUHARA_PERSONAS_DIR=str(personas), KASUHARA_PORT="1")
    r = subprocess.run(
        [sys.executable, "app.py"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert r.returncode == 2
    assert str(broken) in r.stderr and "physical_risk" in r.stderr and "起動できません" in r.stderr
