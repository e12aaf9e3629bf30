# Two commands do all setup: `make lab` opens the course, `make test` runs every test.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: lab test bench lint clean

# One install step for everything: the pinned requirements, course_lib itself, and the
# JupyterLab setting that keeps the news pop-up from covering the first notebook.
$(INSTALLED): requirements.txt pyproject.toml jupyter/overrides.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

## Open the course in JupyterLab on the first notebook (no API key needed).
lab: $(INSTALLED)
	bash scripts/lab.sh

## Run every test: unit, property, Redis, server, browser, and nbval over notebooks and solutions.
# Tests always use the local sandbox (never a real, billed endpoint, even with a key set) and
# keep the learner's progress file out of the home directory.
test: export COURSE_LLM_ENDPOINT = sandbox
test: export COURSE_PROGRESS_PATH = $(CURDIR)/artifacts/test-progress.json
test: $(INSTALLED)
	bash scripts/ensure_chromium.sh
	$(PY) -m ruff check .
	$(PY) -m pytest tests notebooks $(wildcard exercises/solutions) --nbval-lax --nbval-current-env

## Side-by-side ratios against peer libraries (prints a table, writes benchmarks/results.json).
bench: $(INSTALLED)
	$(PY) -m benchmarks --write-readme

lint: $(INSTALLED)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
