PY ?= .venv/bin/python

.PHONY: install run test check bench schema

install:
	bash scripts/install.sh

# Starts the app on the embedded defaults (scripted voice, rule judge, SQLite).
run:
	bash scripts/install.sh
	$(PY) app.py

# The whole suite, browser tests included.
test:
	bash scripts/install.sh --browser
	$(PY) -m pytest

check:
	$(PY) -m ruff check simulator tests bench app.py
	$(PY) -m ruff format --check simulator tests bench app.py
	$(PY) -m mypy

# The dashboard benchmark drives Chromium and starts its own PostgreSQL: the same installs as the tests.
bench:
	bash scripts/install.sh --browser
	$(PY) -m bench

schema:
	$(PY) -m simulator schema
