# The two commands: `make up` runs the system, `make test` checks it. Both make .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: up test lint typecheck format services system-deps bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	# Alpaca's OpenAPI specs for the sandbox's conformance tests (its fastmcp pins mcp<2)
	$(BIN)/pip install --quiet --no-deps 'alpaca-mcp-server>=2.4'
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

## up: install and run the whole system on the embedded default, printing where it runs
up: $(STAMP)
	$(BIN)/stockyard up

## test: install with dev extras, make sure the services are up, lint, type-check, test
test: $(DEV_STAMP) system-deps services lint typecheck
	PYTEST=$(BIN)/pytest bash scripts/run-tests.sh $(PYTEST_ARGS)

## test-torch: the optional torch model's tests (installs the torch extra, CPU build)
.PHONY: test-torch
test-torch: $(DEV_STAMP)
	$(BIN)/pip install --quiet -e '.[torch]' --extra-index-url https://download.pytorch.org/whl/cpu
	STOCKYARD_TEST_TORCH=1 $(BIN)/pytest tests/torch $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

services:
	bash scripts/services.sh

system-deps:
	bash scripts/system-deps.sh

## bench: every benchmark, JSON lines (see docs/benchmarks.md)
bench: $(STAMP)
	$(BIN)/stockyard bench logging --json
	$(BIN)/stockyard bench data --json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
