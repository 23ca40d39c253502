# 园区供需对接平台 — developer and CI commands.  `make help` lists the targets.
#
# Everything runs from the project's own virtual environment (.venv), which
# `make install` creates; nothing is installed into the system Python.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Where `make demo` keeps its database, search index and mail outbox.
MARKET_INSTANCE ?= $(CURDIR)/instance
# The PostgreSQL run creates one fresh database per pytest worker next to this one.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# pytest-xdist workers; 2 matches the 2-core machines CI runs on. Whole modules are
# handed to whichever worker is free, in collection order, where tests/conftest.py puts
# the long ones first (RUN_FIRST): the run ends on short modules and both workers finish
# together, and each module's fixtures (the route walkers' site, the upload probe) are
# built once, its tests running in file order as in a serial run.
PYTEST_WORKERS ?= 2
PYTEST_DIST ?= --dist loadscope --no-loadscope-reorder
BENCH_SECONDS ?= 30
LOAD_SECONDS ?= 10
LINT_PATHS := market search matching tests bench

.PHONY: help install demo test lint ruff format-check typecheck security imports format test-sqlite \
	test-postgres bench-writers bench-load bench-load-check bench-digest bench-dashboard bench-match bench-match-store bench-catalogue \
	bench-search bench-search-heldout bench-security

## help            list the targets
help:
	@sed -n -e 's/^## \([a-z]\)/  make \1/p' -e 's/^##  /        /p' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip is slow even when there is nothing to do, so reinstall only when the
# project's declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# npm ci empties node_modules first, so the stamp inside it also marks a finished install.
node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

## install         .venv with the project and its dev tools, Debian's chromium,
##                 fonts-noto-cjk and npm if missing, node_modules (axe-core for the
##                 accessibility tests) from package-lock.json, compiled translations
install: $(VENV)/.installed
	scripts/ensure-system-packages.sh
	$(MAKE) --no-print-directory node_modules/.installed
	PYBABEL=$(BIN)/pybabel scripts/compile-translations.sh

## demo            install, create/upgrade the database in MARKET_INSTANCE (./instance),
##                 import seed_data/demo, print the demo sign-ins, serve on 127.0.0.1:5000
demo: install
	MARKET_INSTANCE=$(MARKET_INSTANCE) VENV_BIN=$(BIN) scripts/demo.sh

## test            install, start PostgreSQL if needed, lint + type-check + bandit, the
##                 whole suite on SQLite (browser tests included), then again on
##                 PostgreSQL (without browser tests), then a short load run that fails
##                 on any error response. Runs every step and fails if any failed.
test: install
	scripts/ensure-postgres.sh
	$(MAKE) --no-print-directory --keep-going lint test-sqlite test-postgres bench-load-check

## bench-load      the site's pages vs a bare Flask app under gunicorn -w 4 and wrk
##                 (LOAD_SECONDS per page, default 10); prints req/s, latency, ratio
bench-load: install
	$(BIN)/python bench/load.py --seconds $(LOAD_SECONDS)

## bench-match     the matcher on synthetic pools of 10k and 100k offerings x needs: full
##                 recompute wall time and peak memory, incremental p50/p95, growth
bench-match: install
	$(BIN)/python -m bench.match --sizes 10000,100000

## bench-match-store `market match --all` end to end at 100k offerings x 100k needs on
##                 SQLite (MATCH_STORE_DB=postgresql+psycopg://…/bench_match for PostgreSQL,
##                 never the database test): loading, recompute, pairs, writing the table,
##                 per pass (empty table, then replacing it); fails over 120 s
bench-match-store: $(VENV)/.installed
	$(BIN)/python -m bench.match.store --size 100000 --check \
		$(if $(MATCH_STORE_DB),--database-url $(MATCH_STORE_DB))

## bench-search    the embedded search engine beside tantivy and SQLite FTS5 on the same
##                 synthetic pools (SEARCH_SIZES, default 100000,1000000) and query mix:
##                 build docs/s, p50/p95/p99 with and without facets, p95 ratios, load
##                 average; then NDCG@10 of each on the labelled sets over the demo data.
##                 SEARCH_WARMUP queries warm up first (default 200, the whole mix; at 1M
##                 FTS5 takes seconds per faceted query, so 20 saves ~10 minutes)
SEARCH_SIZES ?= 100000,1000000
SEARCH_WARMUP ?= 200
bench-search: $(VENV)/.installed
	$(BIN)/python -m bench.search --sizes $(SEARCH_SIZES) --engines embedded,tantivy,fts5 \
		--warmup $(SEARCH_WARMUP)

## bench-search-heldout  search quality on held-out data kept outside the repository
##                 (HELDOUT=DIR with dataset/ and keyword_queries.json / plain_queries.json):
##                 imported, indexed and searched as the search page does; NDCG@10 per set
##                 and query type, and how many queries with nothing relevant found nothing
bench-search-heldout: $(VENV)/.installed
	@test -n "$(HELDOUT)" || { echo "error: set HELDOUT=DIR (see bench/search/heldout.py)" >&2; exit 2; }
	$(BIN)/python -m bench.search.heldout $(HELDOUT)

## bench-catalogue publish a 10,000-entry catalogue edition with every export (XLSX,
##                 PDF, CSV, JSON): time per step and peak memory against the 20 s target
bench-catalogue: $(VENV)/.installed
	$(BIN)/python bench/catalogue.py --check

## bench-digest    render the weekly digest for 100,000 synthetic users (≤ 120 s);
##                 prints wall and CPU time and peak memory
bench-digest: $(VENV)/.installed
	$(BIN)/python bench/digest.py

## bench-security  /auth/forgot for a registered and an unknown address under gunicorn and
##                 waitress with a real SMTP server: median of 30 each, the difference
##                 (target < 5 ms) and the load average; fails when it is not met
bench-security: $(VENV)/.installed
	$(BIN)/python bench/security.py --check

bench-load-check: $(VENV)/.installed
	$(BIN)/python bench/load.py --seconds 3 --check

## lint            ruff check, ruff format --check, mypy, bandit, lint-imports
lint: ruff format-check typecheck security imports

ruff: $(VENV)/.installed
	$(BIN)/ruff check $(LINT_PATHS)

format-check: $(VENV)/.installed
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: $(VENV)/.installed
	$(BIN)/mypy

## security        bandit at medium severity and confidence; reviewed exceptions are
##                 marked in the code with `# nosec <test id>` and the reason next to it
security: $(VENV)/.installed
	$(BIN)/bandit --quiet --recursive --severity-level medium --confidence-level medium \
		market search matching

## imports         lint-imports: the package boundaries in pyproject.toml (core and models
##                 import no feature, search and matching nothing of market, features in layers)
imports: $(VENV)/.installed
	$(BIN)/lint-imports

## format          apply ruff's fixes and formatting
format: $(VENV)/.installed
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

## test-sqlite     the whole suite on SQLite, browser tests included
test-sqlite: $(VENV)/.installed
	env -u MARKET_TEST_DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_DIST)

## test-postgres   the suite on PostgreSQL (PG_TEST_URL), without browser tests
test-postgres: $(VENV)/.installed
	MARKET_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_DIST) \
		-m "not browser"

## bench-writers   16 writers against gunicorn -w 4 on SQLite for BENCH_SECONDS s,
##                 with BEGIN IMMEDIATE and with plain BEGIN; prints both tables
bench-writers: install
	$(BIN)/python bench/concurrent_writers.py --seconds $(BENCH_SECONDS) --compare

## bench-dashboard park-operations pages with 100k listings and 1M docking events (SQLite;
##                 DASHBOARD_DB=postgresql+psycopg://… for PostgreSQL); p50/p95 vs 300 ms
bench-dashboard: $(VENV)/.installed
	$(BIN)/python bench/dashboard.py $(if $(DASHBOARD_DB),--database-url $(DASHBOARD_DB))
