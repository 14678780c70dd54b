# Quick start: `make pipeline` (set up, then materialize every asset with llm_pipeline.yaml)
#              `make test`     (set up, then run the test suite)
#              `make unit`     (the unit tests alone: pure code, under a minute)
#              `make lint`     (ruff lint and format check, as CI runs them)
VENV ?= .venv
BIN := $(VENV)/bin
# One torch thread per process: two threads on two busy cores ran 20x slower.
export OMP_NUM_THREADS ?= 1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
PORT ?= 3000
# The instance's config: SQLite by default; deploy/dagster-postgres.yaml for PostgreSQL.
INSTANCE_CONFIG ?= dagster.yaml

.PHONY: setup pipeline test unit lint dev instance

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	touch $@

setup: $(VENV)/.installed

instance:
	mkdir -p $(DAGSTER_HOME)
	cp $(INSTANCE_CONFIG) $(DAGSTER_HOME)/dagster.yaml

pipeline: setup instance
	$(BIN)/llm-pipeline run

test: setup
	$(BIN)/python -m pytest

unit: setup
	$(BIN)/python -m pytest llm_pipeline_tests/unit

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

dev: setup instance
	$(BIN)/llm-pipeline dev --port $(PORT)
