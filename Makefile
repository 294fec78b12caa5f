# The two commands a newcomer needs (see README): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP = wsgi

.PHONY: install run test lint translations e2e bench

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed translations

translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d webapp/translations

## run: install, migrate the embedded SQLite database, load the demo data once, then start the app on
## http://$(HOST):$(PORT) and the job queue's worker beside it (Procfile, honcho; Ctrl-C stops both)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	BIN=$(BIN) HOST=$(HOST) $(BIN)/honcho start -f Procfile -p $(PORT)

## test: the whole suite (unit, integration, browser). TEST_DATABASE_URL=postgresql+psycopg://… for PostgreSQL.
test: install
	$(BIN)/pytest

e2e: install
	$(BIN)/pytest tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
