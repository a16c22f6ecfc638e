# SpendScope: `make run` builds the demo warehouse (unless it holds real data), then the dashboard; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q
PORT   ?= 8501
# The dashboard's bind address: ADDRESS=0.0.0.0 serves every interface (README, "Sign-in").
ADDRESS ?= localhost

.PHONY: run test lint demo sql bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt constraints.txt | $(BIN)/python
	$(PIP) -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/python -m etl demo --unless-real
	$(BIN)/python -m streamlit run dashboard/app.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .

demo: $(VENV)/.runtime
	$(BIN)/python -m etl demo

sql: $(VENV)/.dev  # the DuckDB CLI (duckdb-cli), read-only, on the configured warehouse (setting `db`)
	$(BIN)/duckdb -readonly "$$($(BIN)/python -c 'from etl.config import load_config; print(load_config().db_path)')"

# Every benchmark runs even when an earlier one misses a target; bench/targets.py then prints one table of every
# figure against its target and fails when one is missed (or a script recorded nothing).
BENCHES := ingest nightly dashboard eventstudy bigquery anomalies forecasts
bench: $(VENV)/.dev
	@start=$$(date +%s); for b in $(BENCHES); do $(BIN)/python bench/$$b.py || true; done; \
	$(BIN)/python bench/targets.py $$start $(BENCHES)

clean:
	rm -rf data/demo data/warehouse.duckdb* tests/artifacts
