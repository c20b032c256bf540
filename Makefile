# The two commands: `make run` (set up, demo data, serve) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_DEBUG ?= true
export DJANGO_SECRET_KEY ?= dev-only-insecure-key-change-me

.PHONY: run test setup system-packages browser-packages migrate demo lint bench clean

run: setup migrate demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

setup: system-packages $(STAMP)

system-packages:
	@bash scripts/system-packages.sh

browser-packages:
	@bash scripts/browser-packages.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

test: system-packages browser-packages $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=adminsite.settings_test
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 var test-artifacts
