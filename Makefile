# One command per habit. Every target creates the environment it needs when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/idc-sql run queries/examples/nlst-chest-ct.yaml -o nlst-chest-ct.s5cmd

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/history.py
	$(BIN)/python bench/lists.py
	$(BIN)/python bench/templates.py
	$(BIN)/python bench/sets.py
	$(BIN)/python bench/download.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
