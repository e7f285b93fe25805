# Parity: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PARITY_MONGODB_URL ?= mongodb://127.0.0.1:27017/

.PHONY: setup run test test-unit lint schemas infra-up infra-down infra-status infra-reset bench clean

setup: $(VENV)/.installed  ## Python virtualenv with the project and its dev tools

$(VENV)/.installed: pyproject.toml
	@command -v python3.11 >/dev/null || { echo "setup: python3.11 is required"; exit 1; }
	python3.11 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

infra-up:      ; deploy/infra.sh up
infra-down:    ; deploy/infra.sh down
infra-status:  ; deploy/infra.sh status
infra-reset:   ; deploy/infra.sh reset

.PHONY: demo
demo: setup infra-up  ## replay the demo province (deploy/demo/) year by year, before `make run`
	$(VENV)/bin/parity demo

.PHONY: audit
audit: setup  ## known vulnerabilities of the installed dependencies, from PyPI (deploy/audit.py)
	$(PY) deploy/audit.py

.PHONY: alerts-check
alerts-check:  ## promtool: the scrape configs, the alert rules and their unit tests
	deploy/prometheus.sh check

run: setup infra-up  ## Kafka, FerretDB and every service, in the foreground (Ctrl-C stops the services)
	$(VENV)/bin/honcho start -f deploy/Procfile

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

schemas: setup  ## regenerate schemas/ from the code
	$(PY) -m shared.schemas

test-unit: setup
	$(VENV)/bin/pytest -q tests/unit

test: setup  ## lint, schema check, unit and integration tests against real Kafka and FerretDB
	deploy/test.sh

# make bench [SIZE=agencies] [SCALE=n]: figures to bench/RESULTS.md. It starts its own Kafka
# and FerretDB (DATA=$(BENCH_DATA), ports 29092/29093/27027), never the shared ones, and
# stops what it started.
BENCH_DATA ?= /tmp/parity-bench
bench: setup  ## benchmarks: ratios measured in one run (see bench/RESULTS.md)
	DATA=$(BENCH_DATA) KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 FERRETDB_PORT=27027 \
	PARITY_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29092 PARITY_MONGODB_URL=mongodb://127.0.0.1:27027/ \
	BENCH_DATA=$(BENCH_DATA) $(if $(SIZE),BENCH_AGENCIES=$(SIZE)) $(if $(SCALE),BENCH_SCALE=$(SCALE)) \
	deploy/with-infra.sh $(PY) -m bench

# make faults: the long form of tests/reliability (the short form runs in `make test`). It
# starts its own Kafka and FerretDB on free ports under a temporary DATA, never the shared ones.
.PHONY: faults
faults: setup  ## fault tests: services, Kafka and the store killed mid-stream, replicas come and go
	PARITY_FAULTS=long $(VENV)/bin/pytest -q -s -p no:cacheprovider tests/reliability

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
