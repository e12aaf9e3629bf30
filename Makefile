# Two commands do all setup: `make lab` opens the course, `make test` runs every test.
# A learner checks their own exercises with `make check` (`make check EX=ex03` for one) and sees
# what they have done with `make progress`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install lab check progress test test-load bench lint clean

# One install step for everything: the pinned requirements, course_lib itself, and the
# JupyterLab setting that keeps the news pop-up from covering the first notebook.
$(INSTALLED): requirements.txt pyproject.toml jupyter/overrides.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

## Install everything into .venv (what `make lab` and `make test` do first; the dev container
## runs it once).
install: $(INSTALLED)

## Open the course in JupyterLab on the first notebook (no API key needed).
lab: $(INSTALLED)
	bash scripts/lab.sh

## Check the learner's own exercises/*.ipynb (never the solutions): every check must pass; a
## check that is ⏳ not done yet or ❌ not yet right fails. Prints one table and writes the report
## to artifacts/check/. `make check EX=ex03` checks one exercise. Like the tests, the checks talk
## only to the local sandbox.
check: export COURSE_LLM_ENDPOINT = sandbox
check: $(INSTALLED)
	$(PY) scripts/check_exercises.py $(if $(EX),--exercise $(EX))

## What you have done: cards answered, revealed and self-assessed, exercise checks passed. Prints
## a table and writes artifacts/progress/progress.json and gradebook.csv (PROGRESS_OUT=dir to
## change where); LEARNER=name names you in the gradebook.
PROGRESS_OUT ?= artifacts/progress
progress: $(INSTALLED)
	$(PY) -m course_lib.progress_report --out $(PROGRESS_OUT) $(if $(LEARNER),--learner "$(LEARNER)")

## Run every test: unit, property, Redis, server, browser, and nbval over notebooks and solutions.
# Tests always use the local sandbox (never a real, billed endpoint, even with a key set) and
# keep the learner's progress file out of the home directory.
test: export COURSE_LLM_ENDPOINT = sandbox
test: export COURSE_PROGRESS_PATH = $(CURDIR)/artifacts/test-progress.json
test: $(INSTALLED)
	bash scripts/ensure_chromium.sh
	$(PY) -m ruff check .
	$(PY) -m pytest tests notebooks $(wildcard exercises/solutions) --nbval-lax --nbval-current-env

## The timing claims on a busy machine: every test marked `timing` and every notebook and
## solution, with four CPU-bound processes competing for the cores, three runs in a row (RUNS=n,
## BUSY=n to change). Logs in artifacts/under-load/.
RUNS ?= 3
BUSY ?= 4
test-load: export COURSE_LLM_ENDPOINT = sandbox
test-load: export COURSE_PROGRESS_PATH = $(CURDIR)/artifacts/test-progress.json
test-load: $(INSTALLED)
	$(PY) scripts/under_load.py --runs $(RUNS) --busy $(BUSY)

## Side-by-side ratios against peer libraries (prints a table, writes benchmarks/results.json).
bench: $(INSTALLED)
	$(PY) -m benchmarks --write-readme

lint: $(INSTALLED)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
