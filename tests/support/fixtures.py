"""Pytest fixtures for the LLM tests.

Load them in a test module with ``pytest_plugins = ["tests.support.fixtures"]`` (do not
import this module directly, so that pytest can rewrite its asserts).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.openai_server import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
