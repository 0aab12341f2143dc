# crimeplan: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Raw data: data/raw when it holds police files, else the shared real data beside the clone.
RAW_DIR ?= $(shell if [ -d data/raw/police ] && [ -n "$$(ls -A data/raw/police 2>/dev/null)" ]; then echo data/raw; elif [ -d ../shared/data/police ]; then echo ../shared/data; else echo data/raw; fi)
PROCESSED_DIR ?= data/processed
OUTPUT_DIR ?= outputs
FORCE ?= northumbria
QUARTER ?=
JOBS ?=
AREA_LEVEL ?=
USE_STORE ?=
# pytest-xdist workers for make test / test-unit (auto: one per core); each test file stays on
# one worker (--dist loadfile) so its module fixtures are built once
TEST_WORKERS ?= auto
# Let Python cache compiled modules (and pytest its rewritten test modules) even where the
# environment turns that off: without the cache every test worker and pack worker recompiles them.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help venv lock pre-commit test test-unit test-real report ingest status fetch lab lint format bench clean-outputs

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@# WeasyPrint (PDFs) needs Pango; install it from Debian's packages when missing and we may.
	@ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core) ; } || \
	  echo "warning: Pango not found; PDFs need libpango-1.0-0 and libpangoft2-1.0-0"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# Exact versions with hashes (requirements.lock, `make lock` refreshes it), then the project.
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name crimeplan --display-name "Python (crimeplan)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP) ## Create or refresh .venv from requirements.lock (exact versions, hashes)

lock: ## Re-resolve requirements.lock from pyproject.toml (exact versions with hashes; uv)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	  --python-version 3.10 --quiet -o requirements.lock

pre-commit: $(STAMP) ## Install the git pre-commit hook (ruff check and format)
	$(BIN)/python -m pip install --quiet pre-commit
	$(BIN)/pre-commit install

test: $(STAMP) ## Run every test on all cores (pytest-xdist; real data from ../shared/data when present)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: $(STAMP) ## Fast tier: no real data, no notebook runs or PDFs (marker slow), on all cores
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not realdata and not slow"

test-real: $(STAMP) ## Real-data tier only (../shared/data)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m realdata

report: $(STAMP) ## Produce the quarterly pack (FORCE, QUARTER, RAW_DIR, OUTPUT_DIR, JOBS, AREA_LEVEL, USE_STORE=1); fails unless crimeplan exits 0
	@echo "raw data: $(if $(USE_STORE),processed store as it is (USE_STORE=1),$(RAW_DIR))"
	@$(BIN)/crimeplan run --force $(FORCE) $(if $(QUARTER),--quarter $(QUARTER)) \
	  $(if $(USE_STORE),--use-store,--raw-dir $(RAW_DIR)) --processed-dir $(PROCESSED_DIR) \
	  --output-dir $(OUTPUT_DIR) $(if $(JOBS),--jobs $(JOBS)) $(if $(AREA_LEVEL),--area-level $(AREA_LEVEL)); \
	  code=$$?; [ $$code -eq 0 ] || echo "crimeplan run exited with code $$code (see the exit-code table: crimeplan --help)"; \
	  exit $$code

ingest: $(STAMP) ## Build or refresh the processed store from RAW_DIR
	$(BIN)/crimeplan ingest --raw-dir $(RAW_DIR) --processed-dir $(PROCESSED_DIR)

status: $(STAMP) ## Coverage and ledger of the processed store
	$(BIN)/crimeplan status --processed-dir $(PROCESSED_DIR)

fetch: $(STAMP) ## Download police months (FROM, TO) and reference data into data/raw (needs internet)
	$(BIN)/crimeplan fetch --force $(FORCE) --from $(FROM) --to $(TO) --reference --raw-dir data/raw

lab: $(STAMP) ## Open JupyterLab on the project kernel
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP) ## ruff format and autofix
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP) ## Run the benchmarks (ingest, pack)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/pack.py

clean-outputs: ## Delete outputs/ (disposable)
	rm -rf outputs/*
