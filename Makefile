# Brobygger: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1:8000
export DEBUG ?= true

.PHONY: run test bench lint install serve migrate clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

migrate: install
	$(MANAGE) migrate --noinput

run: migrate
	$(MANAGE) deploy_bpmn bpmn/processes
	$(MANAGE) seed_demo
	@echo "Brobygger on http://$(HOST)/  (Ctrl-C stops it and its job worker)"
	@# One job worker (timers, e-mail, webhooks) beside the web server; stopped with it.
	@$(MANAGE) worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver $(HOST)

test: install
	$(VENV)/bin/pytest

bench: install
	# DEBUG off: Django records every query with DEBUG on, which is not what production pays.
	DEBUG=false SECRET_KEY=bench-only $(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules db.sqlite3*
