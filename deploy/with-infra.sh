#!/usr/bin/env bash
# with-infra.sh CMD...: run CMD with Kafka and FerretDB up; stop afterwards whatever this
# script started (what was already running is left running).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
started=()
stop_started() {
    for component in "${started[@]}"; do "$here/$component.sh" down || true; done
}
trap stop_started EXIT  # before the first start: one that fails half-way is stopped too
for component in ferretdb kafka; do
    if ! "$here/$component.sh" status >/dev/null 2>&1; then
        started+=("$component")
        "$here/$component.sh" up
    fi
done
export PARITY_MONGODB_URL="${PARITY_MONGODB_URL:-mongodb://127.0.0.1:27017/}"
"$@"
