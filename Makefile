# The README's quick start: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 8

.PHONY: demo test

## Set up, then build every artefact on the embedded default (offline, CPU).
demo: $(VENV)/installed
	$(BIN)/snakemake --cores $(CORES) all

## Set up, then run the test suite: what .ci/run runs.
test: $(VENV)/installed
	$(BIN)/pytest

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[test]'
	touch $@
