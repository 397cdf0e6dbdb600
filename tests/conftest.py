"""Fixtures shared by the whole suite.

``db_url`` runs a test once on SQLite and once on a real PostgreSQL server that the suite
starts itself (``tests/support/postgres.py``), so the store, permission and application
tests hold on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'k.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture(scope="session")
def rules_engine() -> Iterator[Any]:
    """The offline engine with the rule judge (fast, deterministic), shared by service tests."""
    from simulator.engine import Engine

    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


@pytest.fixture()
def svc(db_url: str, rules_engine: Any) -> Any:
    """The application layer on a fresh database (SQLite, then PostgreSQL)."""
    from simulator.app.services import Services
    from simulator.store import Store

    return Services(Store(db_url), rules_engine)
