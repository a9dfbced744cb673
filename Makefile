# Two commands on a fresh machine: `make test` and `make demo`. Both create the virtualenv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Airflow settings shared by every target: no example DAGs, our example_dags folder.
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/example_dags

.PHONY: install lint typecheck test test-slow coverage test-integrations test-matrix test-leg test-emulator-newest-fastapi demo demo-campaign e2e e2e-celery test-browser clean

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

# Unit, emulator and integration tests against a throwaway, freshly migrated SQLite AIRFLOW_HOME, without
# the volume runs marked slow: those are `make test-slow` (CI runs both).
test: lint typecheck
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	echo "AIRFLOW_HOME=$$home: migrating the metadata database"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python -m pytest -m "not slow and not e2e" $(PYTEST_ARGS)

# The volume runs (marker `slow`): soak fault injection, four workers sharing one request budget (about
# two minutes), 1,000 property cases per property, a 100,000-row file. Same setup as `test`; CI runs it.
test-slow: $(STAMP)
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	echo "AIRFLOW_HOME=$$home: migrating the metadata database"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python -m pytest -m "slow and not e2e" $(PYTEST_ARGS)

# Every test but e2e, slow ones included (`test` plus `test-slow`), under coverage: branch coverage of
# the package, the figure a change to the tests must not lower ([tool.coverage.*] in pyproject.toml).
coverage: $(STAMP)
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS); status=$$?; \
	$(BIN)/python -m coverage report; exit $$status

# The CI matrix: each older Airflow line we claim, and the lowest versions pyproject.toml declares, in its
# own virtualenv under .legs/, one leg after another (pip's cache is shared). `make test` is the newest
# leg (Airflow 3.3), so the matrix does not repeat it. Each leg installs Airflow as its docs say, pinned
# with .ci/constraints/<leg>.txt (the pins that release needs; no constraints URL is reachable from CI).
# Legs skip only the tests marked slow: emulator, integration and dag.test() tests all run. mypy runs
# once, in `make test`: on the older legs it only reports third-party typing differences (SQLAlchemy 2.1's
# column types on 3.1, a type-ignore that only newer Airflow needs on 3.0), nothing about how our code
# behaves.
MATRIX_LEGS ?= airflow-3.0 airflow-3.1 airflow-3.2 lowest
LEGS_DIR := .legs
# A leg broken as a whole (a new release of a package its Airflow does not cap) stops after 25 failures,
# with its summary, instead of running every failing test out to its deadline and CI out to its limit.
LEG_PYTEST_ARGS ?= -q -m "not slow and not e2e" --maxfail=25
# Airflow < 3.2 builds the connection form from the hook's widgets, which need the FAB provider. The
# lowest leg installs only what pyproject.toml declares (its form test skips without FAB).
LEG_AIRFLOW_airflow-3.0 := apache-airflow[fab]
LEG_AIRFLOW_airflow-3.1 := apache-airflow[fab]
# The lowest leg also runs on the lowest Python that requires-python allows (found on PATH or in pyenv).
PYTHON311 ?= $(firstword $(foreach p,python3.11 $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3.11),\
	$(shell $(p) -c 'print("$(p)")' 2>/dev/null)))
LEG_PYTHON_lowest = $(or $(PYTHON311),$(error the lowest leg needs Python 3.11: set PYTHON311=/path/to/python3.11))

test-matrix:
	@failed=""; for leg in $(MATRIX_LEGS); do \
		$(MAKE) --no-print-directory test-leg LEG=$$leg || failed="$$failed $$leg"; \
	done; \
	$(MAKE) --no-print-directory test-emulator-newest-fastapi || failed="$$failed emulator-newest-fastapi"; \
	if [ -n "$$failed" ]; then echo "test-matrix: FAILED legs:$$failed"; exit 1; fi; \
	echo "test-matrix: every leg passed ($(MATRIX_LEGS) emulator-newest-fastapi)"

test-leg:
	@test -f .ci/constraints/$(LEG).txt || { echo "usage: make test-leg LEG=<one of $(MATRIX_LEGS)>"; exit 2; }
	@start=$$(date +%s); $(MAKE) --no-print-directory $(LEGS_DIR)/$(LEG)/.installed-stamp; \
	echo "== leg $(LEG): installed in $$(( $$(date +%s) - start )) s"
	@start=$$(date +%s); home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(LEGS_DIR)/$(LEG)/bin:$$PATH"; \
	$(LEGS_DIR)/$(LEG)/bin/python -c 'import sys, airflow; print("== leg $(LEG): Airflow", airflow.__version__, "on Python", sys.version.split()[0])'; \
	$(LEGS_DIR)/$(LEG)/bin/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(LEGS_DIR)/$(LEG)/bin/python -m pytest -p no:cacheprovider $(LEG_PYTEST_ARGS); status=$$?; \
	echo "== leg $(LEG): tests took $$(( $$(date +%s) - start )) s, exit status $$status"; exit $$status

# The emulator alone on the newest FastAPI, Starlette, uvicorn and pydantic, reinstalled on every run: the
# Airflow legs only reach FastAPI 0.115 to 0.136 (Airflow caps or needs older), and FastAPI 0.137 is where
# routing internals changed. The emulator needs no Airflow, so this leg installs the package without it.
EMULATOR_LEG := $(LEGS_DIR)/emulator-newest-fastapi

test-emulator-newest-fastapi:
	@start=$$(date +%s); rm -rf $(EMULATOR_LEG); $(PYTHON) -m venv $(EMULATOR_LEG); \
	$(EMULATOR_LEG)/bin/python -m pip install --quiet --upgrade pip && \
	$(EMULATOR_LEG)/bin/python -m pip install --quiet --no-deps -e . && \
	$(EMULATOR_LEG)/bin/python -m pip install --quiet --upgrade fastapi starlette uvicorn pydantic PyJWT requests pytest && \
	$(EMULATOR_LEG)/bin/python -c 'import fastapi, starlette, uvicorn; print("== leg emulator: FastAPI", fastapi.__version__, "Starlette", starlette.__version__, "uvicorn", uvicorn.__version__)' && \
	$(EMULATOR_LEG)/bin/python -m pytest -p no:cacheprovider -q tests/emulator; status=$$?; \
	echo "== leg emulator-newest-fastapi: install and tests took $$(( $$(date +%s) - start )) s, exit status $$status"; exit $$status

$(LEGS_DIR)/%/.installed-stamp: .ci/constraints/%.txt pyproject.toml
	rm -rf $(LEGS_DIR)/$*
	$(or $(LEG_PYTHON_$*),$(PYTHON)) -m venv $(LEGS_DIR)/$*
	$(LEGS_DIR)/$*/bin/python -m pip install --quiet --upgrade pip
	$(LEGS_DIR)/$*/bin/python -m pip install --quiet -c .ci/constraints/$*.txt -e '.[test]' '$(or $(LEG_AIRFLOW_$*),apache-airflow)'
	touch $@

# An example DAG, run by real Airflow against the local Kore.ai emulator (no tenant needed), told step by
# step: `make demo` the contact-list refresh, `make demo-campaign` the voice campaign and its results.
DEMO_demo := refresh
DEMO_demo-campaign := campaign

demo demo-campaign: $(STAMP)
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	echo "AIRFLOW_HOME=$$home: migrating the metadata database"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python scripts/demo.py $(DEMO_$@)

# Every example DAG in a real deployment on loopback: api-server, scheduler, dag-processor, triggerer
# (LocalExecutor, SQLite) and the emulator, each stopped by its process group (tests/e2e).
# Our tasks with other providers: the OpenLineage listener on a real `airflow dags test` run, and one
# upload from s3:// through the Amazon provider's object storage against moto's S3 server on 127.0.0.1.
# Their dependencies (openlineage, boto3, s3fs, moto: ~60 packages) go into .venv only here, not into
# every matrix leg: `make test` skips those tests where they are missing. CI runs this after `make test`.
INTEGRATIONS_STAMP := $(VENV)/.integrations-test-stamp
INTEGRATION_TESTS := tests/integration/test_openlineage.py tests/integration/test_contacts_from_s3.py

$(INTEGRATIONS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c .ci/constraints/integrations.txt -e '.[test,integrations-test]'
	touch $(INTEGRATIONS_STAMP)

test-integrations: $(INTEGRATIONS_STAMP)
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home" PATH="$(CURDIR)/$(BIN):$$PATH"; \
	$(BIN)/airflow db migrate > "$$home/migrate.log" 2>&1 || { cat "$$home/migrate.log"; exit 1; }; \
	$(BIN)/python -m pytest -p no:cacheprovider -rs $(INTEGRATION_TESTS) $(PYTEST_ARGS)

# The documentation site: Sphinx over docs/, its API reference from the docstrings, its examples included
# from example_dags/. Warnings are errors; every build starts afresh (-E: no page skipped as unchanged) and
# lands in docs/_build/html (ignored). Sphinx and the theme go into .venv on first use only.
DOCS_STAMP := $(VENV)/.docs-stamp
DOCS_BUILD := docs/_build

.PHONY: docs

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	@home=$$(mktemp -d); trap 'rm -rf "$$home"' EXIT; \
	export AIRFLOW_HOME="$$home"; \
	$(BIN)/sphinx-build -E -W --keep-going -q -b html -d $(DOCS_BUILD)/doctrees docs $(DOCS_BUILD)/html && \
	echo "docs: $(DOCS_BUILD)/html/index.html"

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e -m "e2e and not browser and not celery" -p no:cacheprovider -s $(PYTEST_ARGS)

# The same examples on the CeleryExecutor, with two workers that share no disk (each its own AIRFLOW_HOME,
# working directory, TMPDIR and, as root, a private tmpfs on /tmp), PostgreSQL for metadata, Redis as the
# broker and the request budget, S3 on moto's server: every example DAG, a worker SIGKILLed mid-upload and
# the retry on the other worker, the secret scan (tests/e2e/test_celery_deployment.py, marker celery). Celery
# and its provider go into .venv on top of the integrations' packages, pinned by .ci/constraints/celery.txt
# (celery 5.7.0 breaks the provider); PostgreSQL and Redis are the Debian packages .ci/run installs.
CELERY_STAMP := $(VENV)/.celery-test-stamp

$(CELERY_STAMP): $(INTEGRATIONS_STAMP) .ci/constraints/celery.txt
	$(BIN)/python -m pip install --quiet -c .ci/constraints/integrations.txt -c .ci/constraints/celery.txt \
		-e '.[test,integrations-test,celery-test]'
	touch $(CELERY_STAMP)

e2e-celery: $(CELERY_STAMP)
	$(BIN)/python -m pytest tests/e2e/test_celery_deployment.py -m celery -p no:cacheprovider -s -rs $(PYTEST_ARGS)

# The connection form and its Test button in a real browser (tests/e2e/test_ui_connection_browser.py, marker
# browser), on each release whose form comes from the provider info: Airflow 3.3 (.venv) and 3.2 (the
# matrix leg, which test-matrix then reuses). Debian's chromium (.ci/run installs it) driven by Playwright
# (the extra browser-test, never `playwright install`), against `airflow api-server` on 127.0.0.1.
BROWSER_VENVS := $(VENV) $(LEGS_DIR)/airflow-3.2

$(VENV)/.browser-test-stamp: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,browser-test]'
	touch $@

# Reached through this pattern only, a leg's own stamp would be an intermediate file, deleted at the end:
# test-matrix would then reinstall the leg.
.PRECIOUS: $(LEGS_DIR)/%/.installed-stamp

$(LEGS_DIR)/%/.browser-test-stamp: $(LEGS_DIR)/%/.installed-stamp
	$(LEGS_DIR)/$*/bin/python -m pip install --quiet -c .ci/constraints/$*.txt -e '.[test,browser-test]'
	touch $@

test-browser: $(addsuffix /.browser-test-stamp,$(BROWSER_VENVS))
	@failed=""; for venv in $(BROWSER_VENVS); do \
		start=$$(date +%s); \
		$$venv/bin/python -c 'import airflow; print("== test-browser: Airflow", airflow.__version__)'; \
		$$venv/bin/python -m pytest -p no:cacheprovider -m browser tests/e2e/test_ui_connection_browser.py $(PYTEST_ARGS) \
			|| failed="$$failed $$venv"; \
		echo "== test-browser: $$venv took $$(( $$(date +%s) - start )) s"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-browser: FAILED in$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) $(LEGS_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis .demo .coverage docs/_build
