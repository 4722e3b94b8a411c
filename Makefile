# Tessera: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

BENCH_VENV := .venv-bench
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test check types repeat install chromium js openapi-check lint format lock clean bench loadtest stress wrk \
	cluster cluster-down cluster-test

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Tessera needs Python 3.12 or newer (3.13 preferred)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Every dependency is pinned with its hashes (make lock); the client (client/) goes in editable,
# without its own deps, which requirements-dev.txt pins.
$(VENV)/.installed: $(BIN)/python requirements-dev.txt client/pyproject.toml
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e ./client
	touch $@

install: $(VENV)/.installed

# Served as localhost, not 127.0.0.1: WebAuthn refuses an IP address, so no passkey could be added
# there. Django binds the name to 127.0.0.1, so http://127.0.0.1:$(PORT) answers too.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@# The server and the task worker (core/supervise.py): Ctrl-C stops both, as does either ending.
	PORT=$(PORT) DEBUG=$${DEBUG:-1} $(BIN)/python -m core.supervise \
	  "$(BIN)/python manage.py runserver localhost:$(PORT)" "$(BIN)/python manage.py worker"

# Browser tests drive Debian's Chromium; install it when missing and we are root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing and we are not root: install Debian's chromium package."; exit 1; fi; }

# Real OpenAPI clients (Redocly, openapi-typescript, tsc) for tests/api/test_openapi_clients.py,
# pinned in tests/api/js/package-lock.json; where npm is missing, those tests skip.
JS := tests/api/js
$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

js:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(JS)/node_modules/.installed; \
	else echo "npm is missing: the OpenAPI client checks (tests/api/test_openapi_clients.py) will skip."; fi

# The served schema through those clients, and the structural checks of it.
openapi-check: install js
	$(BIN)/pytest -q tests/api/test_openapi_clients.py tests/api/test_openapi.py

# Every test, browser tests included; BROWSER=0 leaves those out (CI runs them once).
BROWSER ?= 1
test: install chromium js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0
	$(BIN)/pytest $(if $(filter 0,$(BROWSER)),--ignore=tests/browser)

# The fast loop while working: the pre-commit hooks (which fix what they can), then every test
# but the browser's.
check: lint
	$(BIN)/pytest -q --ignore=tests/browser

types: install
	$(BIN)/mypy

# Flakiness hunt: run TESTS N times in a row, stop at the first failure. Every new browser or
# stress test goes through this before it lands, e.g. `make repeat N=20 TESTS=tests/browser`;
# ARGS passes more to pytest (`ARGS="-m stress"` for the stress tests).
N ?= 10
repeat: install chromium
	@test -n "$(TESTS)" || { echo "usage: make repeat N=20 TESTS=tests/browser [ARGS=...]"; exit 2; }
	@for i in $$(seq 1 $(N)); do \
	  echo "== run $$i of $(N): $(TESTS)"; \
	  $(BIN)/pytest -q -x $(ARGS) $(TESTS) || { echo "== failed on run $$i of $(N)"; exit 1; }; \
	done; echo "== $(N) runs in a row passed: $(TESTS)"

# Long tests: a revocation race against gunicorn, a database outage, generated API cases.
stress: install
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(BIN)/pytest -m stress -s

# Three app hosts behind HAProxy, a data host with PostgreSQL behind PgBouncer and Redis, all on
# this machine in network namespaces (cluster/, README "Operations"); needs root. cluster-test
# starts one, shows what failures do to it with figures, and removes it; every step is bounded,
# and Ctrl-C or the time limit still removes it (--foreground lets Ctrl-C reach it).
CLUSTER_TIMEOUT ?= 900
cluster: install
	timeout --foreground -k 30 300 $(BIN)/python -m cluster up

cluster-down: install
	timeout --foreground -k 30 120 $(BIN)/python -m cluster down

cluster-test: install wrk
	timeout --foreground -k 60 $(CLUSTER_TIMEOUT) $(BIN)/python -m cluster test \
	  --out docs/benchmarks/cluster.md

# The side-by-side auth benchmark; its rivals live in their own virtualenv, never in Tessera's.
$(BENCH_VENV)/.installed: requirements-dev.txt bench/requirements.txt
	test -d $(BENCH_VENV) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.txt -r bench/requirements.txt
	touch $@

# Like for like (bench/run.py): Tessera's full production stack and each peer in a minimal
# project of its own, in one interleaved run. BEFORE=<another checkout> times it beside.
bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/run.py --out docs/benchmarks/results.json $(if $(BEFORE),--before $(BEFORE))
	$(BENCH_VENV)/bin/python -m bench.report docs/benchmarks/results.json

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is missing and we are not root: install Debian's wrk package."; exit 1; fi; }

loadtest: install wrk
	$(BIN)/python -m bench.loadtest --duration $${DURATION:-30} $(if $(BEFORE),--before $(BEFORE))

# .pre-commit-config.yaml: django-upgrade, ruff, ruff-format and mypy, from this virtualenv.
lint: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pre-commit run --all-files

# Re-pin dependencies, with their hashes, after editing pyproject.toml (no index URLs are written).
LOCK := uv pip compile --python-version 3.13 --no-header --generate-hashes -q
lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/$(LOCK) pyproject.toml -o requirements.txt
	$(BIN)/$(LOCK) pyproject.toml --extra dev -o requirements-dev.txt
	cd bench && ../$(BIN)/$(LOCK) requirements.in -o requirements.txt

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(JS)/node_modules db.sqlite3 var
