# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1
export GX_ANALYTICS_ENABLED := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The warehouse `make run` builds (orchestration/lib/settings.py has the same default). dbt's
# partial parse is only reused when the profile it was parsed with names the same file.
export WAREHOUSE_PATH ?= $(CURDIR)/warehouse/commissioning.duckdb

.PHONY: run test install format ui sample benchmark clean publish share docs pack
CHROMIUM := /usr/bin/chromium

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changes. uv resolves and installs the pinned set in ~12 s
# (pip: ~2 min on a fresh machine); pip is the fallback when uv cannot be had.
$(STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/pip install --quiet uv 2>/dev/null && $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]' \
		|| $(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Debian's headless Chromium prints the commissioning pack's PDFs and renders the pages the tests open.
$(CHROMIUM):
	@echo "Installing Debian's chromium (the pack's PDFs, the browser tests) …"
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	{ $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

dbt_project/target/manifest.json: $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml $(wildcard seeds/reference/*.csv)
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .

## Materialise every asset for every shipped sample month on the embedded DuckDB warehouse.
run: install $(CHROMIUM) $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/python -m orchestration.run_all

## Publish the warehouse as it stands as a release for BI tools (`make run` does it after every good run).
publish: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/python -m orchestration.release

## The commissioning pack of the current release (make run builds it too): HTML pages and their PDFs.
pack: install $(CHROMIUM)
	$(BIN)/python -m orchestration.pack

## Build one shared data package from the current release: make share SCOPE=england|icb:QWO|sub_icb:02T
SCOPE ?= england
share: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/python -m orchestration.share --scope '$(SCOPE)'

## Lint Python and SQL, then run the whole pytest suite.
test: install $(CHROMIUM) $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models macros tests --processes 2
	cd orchestration/stats && ../../$(BIN)/sqlfluff lint stats.sql
	$(BIN)/pytest -n 2 --dist loadgroup --durations=15

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd dbt_project && ../$(BIN)/sqlfluff fix models macros tests --processes 2
	cd orchestration/stats && ../../$(BIN)/sqlfluff fix stats.sql

## The Dagster UI on http://127.0.0.1:$(UI_PORT), on the Dagster home `make run` records in; Ctrl-C stops it.
UI_PORT ?= 3000
ui: install $(DAGSTER_HOME)/dagster.yaml dbt_project/target/manifest.json
	@exec $(BIN)/python -m orchestration.ui --port $(UI_PORT)

## The dbt docs of every model with the warehouse's column types, served on http://127.0.0.1:8080
## (dbt_project/target/static_index.html is the same docs as one page that opens without a server).
docs: install dbt_project/target/manifest.json
	@warehouse="$$(realpath -m "$${WAREHOUSE_PATH:-$(CURDIR)/warehouse/commissioning.duckdb}")"; target=dev; \
	if [ ! -f "$$warehouse" ]; then \
		target=lint; echo "No warehouse at $$warehouse yet (make run builds it): docs without database column types."; \
	fi; \
	cd dbt_project && WAREHOUSE_PATH="$$warehouse" ../$(BIN)/dbt docs generate --static --quiet --profiles-dir . --target $$target
	@echo "dbt docs on http://127.0.0.1:8080 (Ctrl-C stops), or open dbt_project/target/static_index.html"
	cd dbt_project && ../$(BIN)/dbt docs serve --profiles-dir . --port 8080 --host 127.0.0.1 --no-browser

## Regenerate the shipped sample in seeds/landing (deterministic).
sample: install
	$(BIN)/cw-synth sample --out seeds/landing

## Benchmarks (not tests): generator/loader throughput, and DSRs against PHStatsMethods.
benchmark: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/generator_throughput.py --months 12
	$(BIN)/python benchmarks/dsr_vs_phstatsmethods.py

clean:
	rm -rf warehouse .dagster_home dbt_project/target dbt_project/logs reports
