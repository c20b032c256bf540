# The two commands: `make run` (set up, demo data, serve) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 4

.PHONY: run serve test test-sqlite test-postgres setup system-packages browser-packages idp-packages \
	migrate demo dev-env lint bench bench-data clean

# Development: settings come from the .env that scripts/dev-env.sh writes once (DEBUG on, a
# random secret), read by the server and by every manage.py command alike; every Entity ID and
# ACS URL is built from SSO_PUBLIC_BASE_URL, so it follows HOST and PORT.
# `make run` serves with the job engine inside the server process (docs/deploy.md, Jobs).
# `make serve` takes everything from the environment and never reads .env.
run migrate demo dev-env: export DJANGO_READ_DOT_ENV_FILE = true
run migrate demo dev-env: export DJANGO_DEBUG ?= true
run migrate demo dev-env: export SSO_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: setup migrate demo
	$(BIN)/python manage.py runserver_with_jobs $(HOST):$(PORT)

dev-env:
	@bash scripts/dev-env.sh .env "$(SSO_PUBLIC_BASE_URL)"

# Production-like: gunicorn workers, whitenoise static files, DEBUG off.
# Needs DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, SSO_PUBLIC_BASE_URL (see docs/deploy.md).
serve: export DJANGO_READ_DOT_ENV_FILE = false
serve: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/gunicorn adminsite.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--access-logfile - --forwarded-allow-ips '*'

setup: system-packages $(STAMP)

system-packages:
	@bash scripts/system-packages.sh

browser-packages:
	@bash scripts/browser-packages.sh

idp-packages:
	@bash scripts/idp/install.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

migrate: setup dev-env
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# The whole suite, on SQLite and then on a real PostgreSQL with a real Redis.
test: test-sqlite test-postgres

# These targets install the browser and the IdPs first: a missing one fails its tests, as in CI,
# rather than skipping them (tests/fixtures/browser.py, tests/e2e/conftest.py).
test-sqlite test-postgres: export CI ?= true

test-sqlite: system-packages browser-packages idp-packages $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=adminsite.settings_test
	$(BIN)/pytest

test-postgres: system-packages browser-packages idp-packages $(DEV_STAMP)
	@set -euo pipefail; \
	env_lines=$$(bash scripts/services.sh start); \
	trap 'bash scripts/services.sh stop' EXIT; \
	export $$env_lines; \
	echo "PostgreSQL and Redis: $$DATABASE_URL $$CACHE_URL"; \
	$(BIN)/pytest

# The ACS benchmark (bench/README.md); BENCH_ARGS=--quick for a smoke run.
bench: system-packages $(DEV_STAMP)
	$(BIN)/python bench/acs.py $(BENCH_ARGS)

# The data-growth benchmark (bench/data_growth.py): a million login events in a throwaway
# PostgreSQL of its own (other ports and folder than test-postgres), every page timed.
bench-data: system-packages $(DEV_STAMP)
	@set -euo pipefail; \
	export SERVICES_DIR=$${SERVICES_DIR:-/tmp/admin-center-bench-data} \
		PG_PORT=$${PG_PORT:-55433} REDIS_PORT=$${REDIS_PORT:-56380}; \
	env_lines=$$(bash scripts/services.sh start); \
	trap 'bash scripts/services.sh stop' EXIT; \
	export $$env_lines; \
	$(BIN)/python bench/data_growth.py $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 var test-artifacts
