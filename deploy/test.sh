#!/usr/bin/env bash
# The README's test command (`make test`): static checks, then every test against the real
# Kafka and FerretDB, which are provisioned and started if they are not running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=.venv/bin
start=$(date +%s)
echo "== lint and types"
$bin/ruff check .
$bin/ruff format --check .
$bin/mypy
echo "== schemas match the code"
$bin/python -m shared.schemas --check
echo "== known vulnerabilities of the dependencies (PyPI's advisories; see deploy/audit.py)"
$bin/python deploy/audit.py
echo "== Prometheus scrape configs and alert rules (promtool check, promtool test rules)"
deploy/prometheus.sh check
echo "== headless Chromium for the report's render check (installed only when missing)"
deploy/chromium.sh >/dev/null
echo "== tests (unit, integration against real Kafka and FerretDB)"
deploy/with-infra.sh $bin/pytest -q -p no:cacheprovider "${@:-tests}"
echo "== make test passed in $(( $(date +%s) - start )) s"
