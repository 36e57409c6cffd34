# Licita — the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install install-dev run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## install: install Licita and its dependencies into .venv
install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev
	bash scripts/install-chromium.sh

## run: install, migrate, load the demo on first run, serve on http://127.0.0.1:8000 with the background worker
run: install
	$(BIN)/licita migrate --noinput
	$(BIN)/licita demo --if-empty
	$(BIN)/licita collectstatic --noinput --verbosity 0
	$(BIN)/licita serve --host $(HOST) --port $(PORT)

## test: install the dev dependencies and run the whole suite on SQLite and PostgreSQL
test: install-dev
	bash scripts/test.sh

lint: install-dev
	$(BIN)/ruff check licita tests bench tools
	$(BIN)/mypy licita

bench: install-dev
	$(BIN)/python bench/bid_burst.py

clean:
	rm -rf $(VENV) var
