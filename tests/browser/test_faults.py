"""Faults through the running app: killed with SIGKILL mid-session (and mid-turn) and started
again, nothing stored is lost and the trainee resumes; the database locked for a moment, the
turn waits and is stored. (An LLM that is down, answers 500/429, hangs or returns garbage is
covered where it is called: tests/test_llm_voice.py, tests/test_llm_judge.py,
tests/test_llm_session.py and tests/browser/test_fallback_and_phone.py.)"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gradio_client import Client

from simulator.library import load_personas
from simulator.paths import ROOT
from simulator.store import Store
from tests.browser.conftest import PASSWORD, _free_port, wait_until_up

pytestmark = pytest.mark.browser
PERSONA = sorted(load_personas())[0]


def launch(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env.update(KASUHARA_DATA_DIR=str(data), KASUHARA_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    with (data / f"app-{port}.log").open("wb") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, proc, data / f"app-{port}.log")
    return proc, url


def trainee(url: str) -> Client:
    return Client(url, auth=("fault", PASSWORD), verbose=False, analytics_enabled=False)


def turns_of(data: Path) -> list[str]:
    store = Store(f"sqlite:///{data / 'kasuhara.sqlite3'}")
    u = store.find_user("fault")
    assert u is not None
    rows = store.list_sessions(user_id=u.id)
    out = [t.trainee for r in rows for t in store.load_session(r["id"]).turns]
    store.engine.dispose()
    return out


def test_killed_mid_session_and_mid_turn_the_trainee_resumes_with_every_stored_turn(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'kasuhara.sqlite3'}")
    store.add_user("fault", PASSWORD, department="営業部", display_name="障害 太郎")
    store.engine.dispose()
    proc, url = launch(tmp_path)
    try:
        c = trainee(url)
        c.predict(api_name=f"/start_{PERSONA}")
        c.predict("一つ目の返答です。お話は伺います。", False, False, api_name="/send")
        c.predict("二つ目の返答です。契約の範囲外のためお受けできません。", False, False, api_name="/send")

        # a third reply in flight when the process is killed
        def in_flight() -> None:
            with contextlib.suppress(Exception):  # the server is killed under it
                c.predict("三つ目の返答です。記録に残します。", False, False, api_name="/send")

        t = threading.Thread(target=in_flight, daemon=True)
        t.start()
        time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    after_kill = turns_of(tmp_path)
    assert after_kill[:2] == [
        "一つ目の返答です。お話は伺います。",
        "二つ目の返答です。契約の範囲外のためお受けできません。",
    ]
    assert len(after_kill) in (2, 3), "the turn in flight is stored whole or not at all"
    proc, url = launch(tmp_path)
    try:
        c = trainee(url)
        resumed = str(c.predict(api_name="/resume"))
        assert "二つ目の返答です" in resumed, "the trainee resumes the same practice"
        c.predict("再起動のあとの返答です。上長に報告いたします。", False, False, api_name="/send")
        assert turns_of(tmp_path)[-1] == "再起動のあとの返答です。上長に報告いたします。"
        assert len(turns_of(tmp_path)) == len(after_kill) + 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_turn_waits_for_a_locked_database_and_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "kasuhara.sqlite3"
    store = Store(f"sqlite:///{db}")
    store.add_user("fault", PASSWORD, department="営業部")
    store.engine.dispose()
    proc, url = launch(tmp_path)
    try:
        c = trainee(url)
        c.predict(api_name=f"/start_{PERSONA}")
        lock = sqlite3.connect(db, timeout=5, isolation_level=None, check_same_thread=False)
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the database
        released = threading.Timer(2.0, lambda: lock.execute("COMMIT"))
        released.start()
        t0 = time.monotonic()
        c.predict("ロック中の返答です。お話は伺います。", False, False, api_name="/send")
        waited = time.monotonic() - t0
        released.join()
        lock.close()
        assert waited >= 1.5, "the write waited for the lock"
        assert turns_of(tmp_path) == ["ロック中の返答です。お話は伺います。"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_two_instances_on_one_database_one_killed_mid_turn_the_other_carries_on(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'kasuhara.sqlite3'}")
    store.add_user("fault", PASSWORD, department="営業部")
    store.engine.dispose()
    a, url_a = launch(tmp_path)
    b, url_b = launch(tmp_path)
    try:
        on_a = trainee(url_a)
        on_a.predict(api_name=f"/start_{PERSONA}")
        on_a.predict("Aでの返答です。お話は伺います。", False, False, api_name="/send")

        def in_flight() -> None:
            with contextlib.suppress(Exception):  # instance A is killed under it
                on_a.predict("Aで送りかけた返答です。", False, False, api_name="/send")

        threading.Thread(target=in_flight, daemon=True).start()
        time.sleep(0.05)
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        kept = turns_of(tmp_path)
        assert kept[0] == "Aでの返答です。お話は伺います。" and len(kept) in (1, 2)
        on_b = trainee(url_b)  # the same trainee, now on B (signed in again: A's page is gone)
        assert "Aでの返答です" in str(on_b.predict(api_name="/resume"))
        on_b.predict("Bでの返答です。契約の範囲外のためお受けできません。", False, False, api_name="/send")
        assert turns_of(tmp_path) == [*kept, "Bでの返答です。契約の範囲外のためお受けできません。"]
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
