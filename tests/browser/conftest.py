"""Browser tests: the real app in a subprocess on a free port, driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.paths import ROOT
from simulator.store import Store

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "practice-pass-1"


@dataclass
class AppServer:
    url: str
    data_dir: Path
    db_url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 90) -> None:
    """Until the app answers on ``url``; its log in the error when it exits or never answers."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited: {log.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"app did not start: {log.read_text(errors='replace')}")


def _serve(data: Path, extra_env: dict[str, str], db_url: str | None = None) -> Iterator[AppServer]:
    db_url = db_url or f"sqlite:///{data / 'kasuhara.sqlite3'}"
    if db_url.startswith("postgresql"):
        extra_env = {**extra_env, "KASUHARA_DATABASE_URL": db_url}
    store = Store(db_url)
    store.add_user("sato", PASSWORD, role="trainee", department="営業部", display_name="佐藤 花子")
    store.add_user("kato", PASSWORD, role="trainee", department="開発部", display_name="加藤 健")
    port = _free_port()
    env = dict(
        os.environ,
        KASUHARA_DATA_DIR=str(data),
        KASUHARA_PORT=str(port),
        KASUHARA_HOST="127.0.0.1",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    for k in [
        k
        for k in env
        if k.startswith("KASUHARA_") and k not in ("KASUHARA_DATA_DIR", "KASUHARA_PORT", "KASUHARA_HOST")
    ]:
        env.pop(k)
    env.update(extra_env)
    log = data / "app.log"
    log_file = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, log)
    except RuntimeError:
        proc.kill()
        log_file.close()
        raise
    yield AppServer(url, data, db_url, proc, log)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log_file.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on the embedded defaults (scripted voice, hybrid judge, SQLite)."""
    yield from _serve(tmp_path_factory.mktemp("appdata"), {})


@pytest.fixture(scope="session")
def app_server_pg(tmp_path_factory: pytest.TempPathFactory, postgres: Any) -> Iterator[AppServer]:
    """The same app on a PostgreSQL database the suite started."""
    yield from _serve(tmp_path_factory.mktemp("appdata_pg"), {}, postgres.create_database())


@pytest.fixture(scope="session")
def app_with_dead_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app configured for an LLM endpoint where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    yield from _serve(
        tmp_path_factory.mktemp("appdata_llm"),
        {
            "KASUHARA_LLM_BASE_URL": f"http://127.0.0.1:{dead}/v1",
            "KASUHARA_PERSONA_MODEL": "unreachable-model",
            "KASUHARA_LLM_TIMEOUT": "2",
        },
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:  # type: ignore[type-arg]
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:  # type: ignore[type-arg]
    return {
        **browser_context_args,
        "locale": "ja-JP",
        "viewport": {"width": 1280, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
