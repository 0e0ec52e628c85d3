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

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-live: $(STAMP)
	$(BIN)/python -m bench.live

soak: $(STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
