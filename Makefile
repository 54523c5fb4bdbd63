# carbonfoot: the commands the README names. Each creates the environment it needs.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: venv demo test lint format bench stress docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)  ## the main job on the bundled example trips
	$(BIN)/carbonfoot demo

test: $(STAMP) lint  ## the whole suite: lint, types, tests (in two processes)
	$(BIN)/python -m pytest -n 2 --dist load --durations=25

lint: $(STAMP)
	$(BIN)/ruff check src plugins tests benchmarks
	$(BIN)/ruff format --check src plugins tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src plugins tests benchmarks
	$(BIN)/ruff check --fix src plugins tests benchmarks

bench: $(STAMP)  ## every benchmark; results in benchmarks/results.json
	$(BIN)/python benchmarks/run.py

stress: $(STAMP)  ## long property runs, and 200 crash-and-replay seeds of the ledger
	SCHEMATHESIS_MAX_EXAMPLES=200 $(BIN)/python -m pytest tests -m "not slow" --hypothesis-profile=stress
	$(BIN)/python tests/ledger/scripts/crash_replay.py --seeds 200 --trips 100000

docs: $(STAMP)  ## the documentation site, into site/ (strict: a broken reference fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) dist build site demo-output .pytest_cache .mypy_cache .ruff_cache .hypothesis
