# Consultation intake: everyday commands. Only Python 3.12+ is needed; `make` sets up .venv itself.
PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes
TEST_SECRET_KEY := insecure-key-for-the-test-suite-only

.PHONY: run test lint audit format migrations-check serve-prod bench install install-dev clean

run: export DEBUG ?= 1
run: install  ## Set up, migrate the SQLite database, load SkinPen and serve on 127.0.0.1:8000
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_question_set intake/question_sets/skinpen.json --cases intake/question_sets/skinpen.cases.json --publish
	$(BIN)/python manage.py ensure_demo_staff
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install-dev  ## Run the whole test suite (PostgreSQL when DATABASE_URL says so)
	SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev  ## ruff (lint and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/mypy .

audit: install-dev  ## Known vulnerabilities in the pinned dependencies (PyPI's advisory data)
	$(BIN)/pip-audit --strict --require-hashes --disable-pip --progress-spinner off \
		-r requirements.lock -r requirements-dev.lock

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev  ## Fail if models changed without a migration
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/python manage.py makemigrations --check --dry-run

serve-prod: install  ## What the containers run, without Docker: gunicorn and the task worker
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py load_question_set intake/question_sets/skinpen.json --cases intake/question_sets/skinpen.cases.json --publish
	$(BIN)/python manage.py task_worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/gunicorn clinic.wsgi

bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench: install  ## Benchmark on the local PostgreSQL (in a throw-away database); writes docs/benchmarks.md
	@command -v wrk >/dev/null || { \
		echo "Installing wrk (Debian package) for the load"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
			'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null'; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

install: $(VENV)/.installed-app
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
		{ echo "Python 3.12 or newer is needed; run with PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: requirements.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@ $(VENV)/.installed-app

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache
