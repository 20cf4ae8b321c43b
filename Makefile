# Every target creates .venv when missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; a bare "torch" requirement pulls a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: run test lint format bench outline clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH) numpy
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH) numpy
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/gradtutor

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2

lint: $(VENV)/.installed-test
	$(BIN)/ruff check gradtutor tests bench
	$(BIN)/ruff format --check gradtutor tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff format gradtutor tests bench
	$(BIN)/ruff check --fix gradtutor tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

# After editing the built-in pack: its shipped outline (a first start paints from it).
outline: $(VENV)/.installed
	$(BIN)/python -m gradtutor.core.outline

clean:
	rm -rf $(VENV) build dist *.egg-info
