"""Two app instances on one PostgreSQL, driven at once through Gradio's API (``gradio_client``).

The suite starts a PostgreSQL server (tests/conftest.py) and both instances itself. Simulated
trainees practise at the same time on either instance; no turn is lost and no session mixed
up. A trainee signed in on one instance is signed in on the other (the sign-in is verified
from the database) and resumes the same practice there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from simulator.library import load_personas
from simulator.paths import ROOT
from simulator.store import Store
from tests.browser.conftest import _free_port, wait_until_up
from tests.support.postgres import PostgresServer

PASSWORD = "two-instances-1"
PERSONA_ID = sorted(load_personas())[0]
TRAINEES = [f"trainee{i:02d}" for i in range(8)]
REPLIES = 3


def _start(url_db: str, data: Path, name: str) -> tuple[str, subprocess.Popen[bytes], Path, Any]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env.update(
        KASUHARA_DATA_DIR=str(data),
        KASUHARA_DATABASE_URL=url_db,
        KASUHARA_PORT=str(port),
        KASUHARA_HOST="127.0.0.1",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    log = data / f"{name}.log"
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    return f"http://127.0.0.1:{port}", proc, log, out


@pytest.fixture(scope="module")
def instances(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    db = postgres.create_database()
    store = Store(db)  # the schema, made once before either instance starts
    for name in TRAINEES:
        store.add_user(name, PASSWORD, role="trainee", department="営業部", display_name=name)
    store.engine.dispose()
    data = tmp_path_factory.mktemp("two")
    started = [_start(db, data, "a"), _start(db, data, "b")]  # both start at once
    try:
        for url, proc, log, _out in started:
            wait_until_up(url, proc, log)
        yield started[0][0], started[1][0], db
    finally:
        for _url, proc, _log, _out in started:
            proc.terminate()
        for _url, proc, _log, out in started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out.close()


def _client(url: str, user: str) -> Client:
    return Client(url, auth=(user, PASSWORD), verbose=False, analytics_enabled=False)


def test_trainees_on_two_instances_at_once_lose_no_turn_and_mix_up_no_session(
    instances: tuple[str, str, str],
) -> None:
    a, b, db = instances
    errors: list[BaseException] = []

    def practise(i: int, name: str) -> None:
        try:
            c = _client(a if i % 2 == 0 else b, name)
            c.predict(api_name=f"/start_{PERSONA_ID}")
            for n in range(REPLIES):
                c.predict(f"{name}の返答{n + 1}です。お話は伺います。", False, False, api_name="/send")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=practise, args=(i, n)) for i, n in enumerate(TRAINEES)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=240)
    assert not errors, errors[:3]
    store = Store(db)
    for name in TRAINEES:
        user = store.find_user(name)
        assert user is not None
        rows = store.list_sessions(user_id=user.id)
        assert len(rows) == 1, f"{name}: one session each"
        session = store.load_session(rows[0]["id"])
        said = [t.trainee for t in session.turns]
        assert said == [f"{name}の返答{n + 1}です。お話は伺います。" for n in range(len(said))], name
        ended = session.ended_at is not None
        assert len(said) == REPLIES or (ended and len(said) >= 1), f"{name}: every reply is stored"
    store.engine.dispose()


def test_signed_in_on_one_instance_a_trainee_continues_on_the_other(instances: tuple[str, str, str]) -> None:
    a, b, db = instances
    name = TRAINEES[0] + "x"
    store = Store(db)
    store.add_user(name, PASSWORD, role="trainee", department="営業部")
    on_a = _client(a, name)
    on_a.predict(api_name=f"/start_{PERSONA_ID}")
    on_a.predict("最初の返答です。お話は伺います。", False, False, api_name="/send")
    # the same browser cookie, now answered by the other instance: no second sign-in
    on_b = Client(b, httpx_kwargs={"cookies": dict(on_a.cookies)}, verbose=False, analytics_enabled=False)
    on_b.predict(api_name="/resume")
    on_b.predict("二つ目の返答です。ご要望にはお応えできません。", False, False, api_name="/send")
    user = store.find_user(name)
    assert user is not None
    rows = store.list_sessions(user_id=user.id)
    assert len(rows) == 1, "the practice went on in the same session"
    said = [t.trainee for t in store.load_session(rows[0]["id"]).turns]
    assert said[:2] == ["最初の返答です。お話は伺います。", "二つ目の返答です。ご要望にはお応えできません。"]
    # a stranger's cookie is refused by both instances
    with pytest.raises(Exception):  # noqa: B017 - any refusal; what matters is no data
        Client(b, httpx_kwargs={"cookies": {k: "forged" for k in on_a.cookies}}, verbose=False,
               analytics_enabled=False).predict(api_name="/history")  # fmt: skip
    store.engine.dispose()
