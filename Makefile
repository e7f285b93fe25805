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

bench: setup
	deploy/with-infra.sh $(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
