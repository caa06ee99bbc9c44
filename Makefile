# Brobygger: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1:8000
export DEBUG ?= true

.PHONY: run test bench bench-http lint install serve migrate clean

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
	@# runserver and one job worker (timers, e-mail, webhooks), started again if it dies.
	$(MANAGE) serve --dev --bind $(HOST)

# Production node (docs/deploy.md): DEBUG off, PostgreSQL only (DATABASE_URL), SECRET_KEY set;
# migrate, collectstatic, then gunicorn (WEB_WORKERS x WEB_THREADS) beside JOB_WORKERS workers.
serve: install
	DEBUG=false STATIC_ROOT="$${STATIC_ROOT:-$(CURDIR)/staticfiles}" $(MANAGE) serve --bind "$${WEB_BIND:-$(HOST)}"

test: install
	$(VENV)/bin/pytest

bench: install
	# DEBUG off: Django records every query with DEBUG on, which is not what production pays.
	DEBUG=false SECRET_KEY=bench-only $(PY) -m bench

# The production server (manage.py serve) on a throw-away PostgreSQL database, 8 clients (locust)
# working whole cases over the REST API; JSON on stdout. Needs DATABASE_URL=postgres://...
bench-http: install
	@$(PY) -m bench.http

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules db.sqlite3*
