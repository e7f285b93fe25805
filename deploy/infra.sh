#!/usr/bin/env bash
# Local infrastructure for development and tests: FerretDB, Kafka and Prometheus, loopback only.
#
# Usage: deploy/infra.sh {up|down|status|reset}
#   up      start FerretDB, then Kafka, then Prometheus (provisioning on first use); prints the
#           total time. Prometheus is optional: if it cannot be fetched or started, the rest
#           still comes up, with a warning
#   down    stop Prometheus, Kafka, then FerretDB
#   status  exit 0 if all three are running, 3 otherwise
#   reset   stop them and wipe their data (keeps the cache)
#
# FERRETDB_BACKEND=postgresql stores FerretDB's data in PostgreSQL (deploy/postgres.sh, started,
# stopped and wiped with FerretDB); the default is sqlite. See deploy/ferretdb.sh.
set -euo pipefail

COMPONENT=infra
DEPLOY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
source "$DEPLOY/lib.sh"

usage() {
    echo "usage: $0 {up|down|status|reset}" >&2
    exit 2
}

cmd_up() {
    local start
    start="$(now_ms)"
    "$DEPLOY/ferretdb.sh" up
    "$DEPLOY/kafka.sh" up
    if ! "$DEPLOY/prometheus.sh" up; then
        warn "Prometheus did not come up (see above); Kafka and FerretDB are up, but nothing" \
            "scrapes the services' metrics and the tests that need Prometheus will fail"
    fi
    info "up in $(elapsed_s "$start")s (ferretdb $HOST:$FERRETDB_PORT, kafka $HOST:$KAFKA_PORT)"
}

cmd_down() {
    "$DEPLOY/prometheus.sh" down
    "$DEPLOY/kafka.sh" down
    "$DEPLOY/ferretdb.sh" down
}

cmd_status() {
    local rc=0
    "$DEPLOY/ferretdb.sh" status || rc=$?
    "$DEPLOY/kafka.sh" status || rc=$?
    "$DEPLOY/prometheus.sh" status || rc=$?
    return "$rc"
}

cmd_reset() {
    "$DEPLOY/prometheus.sh" reset
    "$DEPLOY/kafka.sh" reset
    "$DEPLOY/ferretdb.sh" reset
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    *) usage ;;
    esac
}

main "$@"
