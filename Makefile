# Mission Control: `make run` to start, `make test` to check. Both set up .venv on their own.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install test lint bench bench-live soak demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@# A bundled SQLite without the WAL-reset bug where a wheel exists; Python's own SQLite elsewhere.
	$(BIN)/pip install --quiet --only-binary=pysqlite3 'pysqlite3>=0.6.1' \
		|| echo "mc: no pysqlite3 wheel for this platform: using Python's SQLite (see README, SQLite versions)"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mc serve

demo: $(STAMP)
	$(BIN)/mc demo

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy

# Route, unit and real-server tests on two workers (the machine's two cores), a test file at a time each (a file's
# tests share the servers its fixtures start); then the browser tests on their own, one at a time: chromium with a
# server beside it fills both cores, and their waits are for what a person would see. `pytest tests/test_x.py`
# alone runs in one process as usual.
test: lint
	$(BIN)/pytest -n 2 --dist loadfile -m "not browser"
	$(BIN)/pytest -m browser

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-live: $(STAMP)
	$(BIN)/python -m bench.live

soak: $(STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
