# Two commands on a fresh machine: `make test` and `make demo`. Both create the virtualenv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Airflow settings shared by every target: no example DAGs, our example_dags folder.
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/example_dags

.PHONY: install lint typecheck test demo e2e clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Unit, emulator and integration tests against a throwaway, freshly migrated SQLite AIRFLOW_HOME.
test: lint typecheck
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	echo "AIRFLOW_HOME=$$home: migrating the metadata database"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The example DAG, run by real Airflow against the local Kore.ai emulator (no tenant needed).
demo: $(STAMP)
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	echo "AIRFLOW_HOME=$$home: migrating the metadata database"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python scripts/demo.py

# Every example DAG in a real deployment on loopback: api-server, scheduler, dag-processor, triggerer
# (LocalExecutor, SQLite) and the emulator, each stopped by its process group (tests/e2e).
e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e -m e2e -p no:cacheprovider -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .demo
