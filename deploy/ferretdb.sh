#!/usr/bin/env bash
# Local FerretDB (MongoDB wire protocol) built from source with the Go toolchain, no Docker.
# Storage: SQLite under $DATA/ferretdb, or PostgreSQL when FERRETDB_POSTGRESQL_URL is set.
#
# Usage: deploy/ferretdb.sh {provision|up|down|status|reset}
#   provision  build FerretDB into $CACHE/bin/ferretdb (skipped if the right version is there)
#   up         provision if needed, start, wait for the port
#   down       stop (SIGTERM, SIGKILL after 30 s)
#   status     exit 0 if running, 3 if stopped
#   reset      down, then wipe $DATA/ferretdb and $DATA/ferretdb-state (keeps the cache)
#
# Environment: FERRETDB_PORT (27017), FERRETDB_BACKEND (sqlite | postgresql; default sqlite),
#   FERRETDB_POSTGRESQL_URL (unset: with FERRETDB_BACKEND=postgresql, the private cluster of
#   deploy/postgres.sh, which up/down/status/reset then start, stop, check and wipe too;
#   set: that server, and FerretDB uses PostgreSQL whatever FERRETDB_BACKEND says),
#   FERRETDB_LOG_LEVEL (warn), FERRETDB_DEBUG_PORT (unset: debug HTTP listener disabled),
#   FERRETDB_GOGC (800: the Go collector's GOGC for the FerretDB process),
#   FERRETDB_SETUP_USERNAME and FERRETDB_SETUP_PASSWORD (unset: no authentication; set: a
#   client must authenticate, SCRAM-SHA-256, as that user, which FerretDB creates in
#   FERRETDB_SETUP_DATABASE, default admin, when it first sets up an empty store; a later
#   start keeps the user and password it has). FerretDB 1.24 calls this authentication
#   experimental (--test-enable-new-auth); it reads the password from the environment, so
#   it never appears on a command line.
set -euo pipefail

COMPONENT=ferretdb
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FERRETDB_MODULE="github.com/FerretDB/FerretDB"
FERRETDB_VERSION="v1.24.2"
BIN="$CACHE/bin/ferretdb"
SQLITE_DIR="$DATA/ferretdb"
STATE_DIR="$DATA/ferretdb-state"
LOGFILE="$LOG_DIR/ferretdb.log"
START_TIMEOUT_S=30
STOP_TIMEOUT_S=30
# Marker that identifies our process in /proc/PID/cmdline.
MARKER="ferretdb --handler="

usage() {
    echo "usage: $0 {provision|up|down|status|reset}" >&2
    exit 2
}

# bin_version [BIN]: the version a FerretDB binary reports (empty if it can't run).
bin_version() {
    local out
    out="$("${1:-$BIN}" --version 2>/dev/null)" || return 0
    sed -n 's/^version: //p' <<<"$out"
}

# The project's patches to FerretDB (deploy/ferretdb/*.patch, each explains itself): the
# SQLite backend's _id index is used. A binary built with other patches is rebuilt.
PATCH_DIR="$ROOT/deploy/ferretdb"
PATCH_STAMP="$CACHE/bin/ferretdb.patches"

patches_digest() {
    cat "$PATCH_DIR"/*.patch | sha256sum | cut -d' ' -f1
}

is_provisioned() {
    [[ -x $BIN && "$(bin_version)" == "$FERRETDB_VERSION" && -s $PATCH_STAMP &&
        "$(cat "$PATCH_STAMP")" == "$(patches_digest)" ]]
}

# Go settings for the build: no VCS stamping, no toolchain download, no workspace,
# and a writable module cache (so `rm -rf` of a custom GOMODCACHE works).
go_env() {
    env GOFLAGS="-buildvcs=false -modcacherw" GOTOOLCHAIN=local GOWORK=off GO111MODULE=on "$@"
}

# module_dir: download the FerretDB module (exact version, so no @v/list lookup)
# and print its directory in the module cache.
module_dir() {
    local json dir
    # Run outside any Go module so the project's own go.mod (if any) is not involved.
    json="$(cd "$1" && go_env go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION")" ||
        die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION failed (is the Go module proxy reachable?)"
    dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -n $dir && -f $dir/go.mod ]] || die "could not find the module directory in: $json"
    echo "$dir"
}

cmd_provision() {
    if is_provisioned; then
        info "provisioned ($BIN, $FERRETDB_VERSION)"
        return 0
    fi
    need_cmd go "install Go 1.24+ (https://go.dev/dl/ or Debian: apt-get install golang)"
    need_cmd patch "Debian: apt-get install patch"
    [[ -z "$(live_pid ferretdb "$BIN --handler=")" ]] ||
        die "ferretdb is running from $BIN; run '$0 down' first"

    local start work src
    start="$(now_ms)"
    mkdir -p "$CACHE/bin"
    work="$(mktemp -d "$CACHE/ferretdb-build.XXXXXX")"
    # shellcheck disable=SC2064 # expand $work now
    trap "rm -rf '$work'" EXIT
    info "downloading $FERRETDB_MODULE@$FERRETDB_VERSION"
    src="$(module_dir "$work")"

    # The module cache is read-only, and FerretDB needs build/version/version.txt
    # (normally generated from git) or the binary panics at startup: build a copy.
    cp -R "$src" "$work/src"
    chmod -R u+w "$work/src"
    echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
    echo "source" >"$work/src/build/version/package.txt"
    local patch
    for patch in "$PATCH_DIR"/*.patch; do
        info "applying ${patch#"$ROOT"/}"
        patch -p1 --forward --quiet -d "$work/src" <"$patch" >/dev/null ||
            die "could not apply $patch to FerretDB $FERRETDB_VERSION"
    done

    info "building $FERRETDB_VERSION (about a minute when the Go build cache is cold)"
    (cd "$work/src" && go_env go build -trimpath -o "$work/ferretdb" ./cmd/ferretdb) ||
        die "go build of FerretDB $FERRETDB_VERSION failed"
    [[ "$(bin_version "$work/ferretdb")" == "$FERRETDB_VERSION" ]] ||
        die "built binary does not report version $FERRETDB_VERSION"
    mv -f "$work/ferretdb" "$BIN"
    patches_digest >"$PATCH_STAMP"
    info "built $BIN in $(elapsed_s "$start")s"
}

# backend_args: storage flags (SQLite by default, PostgreSQL if configured).
# SQLite runs in WAL mode (FerretDB's default) with synchronous=normal: a commit no longer
# waits for an fsync (measured: a bulk write of 189 documents took 11.9 s with FerretDB's
# default synchronous=full, since every document is its own transaction). A crash of
# FerretDB loses nothing; a power cut may lose the last commits. This is a development
# and test store; production runs MongoDB.
FERRETDB_SQLITE_SYNCHRONOUS="${FERRETDB_SQLITE_SYNCHRONOUS:-normal}"
FERRETDB_BACKEND="${FERRETDB_BACKEND:-sqlite}"
[[ $FERRETDB_BACKEND == sqlite || $FERRETDB_BACKEND == postgresql ]] ||
    die "FERRETDB_BACKEND must be sqlite or postgresql, not '$FERRETDB_BACKEND'"
POSTGRES_SH="$ROOT/deploy/postgres.sh"

# managed_postgres: PostgreSQL wanted and no server given: ours (deploy/postgres.sh).
managed_postgres() {
    [[ $FERRETDB_BACKEND == postgresql && -z ${FERRETDB_POSTGRESQL_URL:-} ]]
}

backend_args() {
    if [[ -n ${FERRETDB_POSTGRESQL_URL:-} ]]; then
        printf '%s\n' --handler=postgresql "--postgresql-url=$FERRETDB_POSTGRESQL_URL"
    else
        printf '%s\n' --handler=sqlite \
            "--sqlite-url=file:$SQLITE_DIR/?_pragma=synchronous($FERRETDB_SQLITE_SYNCHRONOUS)"
    fi
}

# auth_flags: sets AUTH_FLAGS, what makes FerretDB require a user (see
# FERRETDB_SETUP_USERNAME above), and exports the setup variables FerretDB reads.
auth_flags() {
    AUTH_FLAGS=()
    [[ -n ${FERRETDB_SETUP_USERNAME:-} ]] || return 0
    [[ -n ${FERRETDB_SETUP_PASSWORD:-} ]] ||
        die "FERRETDB_SETUP_USERNAME is set without FERRETDB_SETUP_PASSWORD (it has no default)"
    export FERRETDB_SETUP_USERNAME FERRETDB_SETUP_PASSWORD
    export FERRETDB_SETUP_DATABASE="${FERRETDB_SETUP_DATABASE:-admin}"
    AUTH_FLAGS=(--test-enable-new-auth)
}

debug_addr() {
    if [[ -n ${FERRETDB_DEBUG_PORT:-} ]]; then echo "$HOST:$FERRETDB_DEBUG_PORT"; else echo "-"; fi
}

wait_ready() {
    local pid=$1 start=$2
    local deadline=$((start + START_TIMEOUT_S * 1000))
    until port_open "$HOST" "$FERRETDB_PORT"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail_log "$LOGFILE"
            die "process $pid exited during startup (see $LOGFILE)"
        fi
        if (($(now_ms) >= deadline)); then
            tail_log "$LOGFILE"
            die "$HOST:$FERRETDB_PORT not answering after ${START_TIMEOUT_S}s (see $LOGFILE)"
        fi
        sleep 0.05
    done
}

cmd_up() {
    local start pid
    start="$(now_ms)"
    pid="$(live_pid ferretdb "$MARKER")"
    if [[ -n $pid ]]; then
        if port_open "$HOST" "$FERRETDB_PORT"; then
            info "already running (pid $pid, $HOST:$FERRETDB_PORT)"
            return 0
        fi
        info "pid $pid is alive but $HOST:$FERRETDB_PORT is not answering yet; waiting"
        wait_ready "$pid" "$start"
        info "ready in $(elapsed_s "$start")s"
        return 0
    fi
    ! port_open "$HOST" "$FERRETDB_PORT" ||
        die "$HOST:$FERRETDB_PORT is already in use by another process (set FERRETDB_PORT)"

    is_provisioned || cmd_provision
    if managed_postgres; then
        "$POSTGRES_SH" up
        FERRETDB_POSTGRESQL_URL="$("$POSTGRES_SH" url)"
    fi
    mkdir -p "$SQLITE_DIR" "$STATE_DIR"
    local -a backend
    mapfile -t backend < <(backend_args)
    auth_flags

    rotate_log "$LOGFILE"
    printf '%s: starting FerretDB %s (%s)\n' "$COMPONENT" "$(bin_version)" "${backend[0]}" >>"$LOGFILE"
    # Go's collector at its default (GOGC=100) took a fifth of FerretDB's CPU under Parity's
    # writes; at 800, compare-and-set replaces of person documents went from about 850/s
    # to 1,070-1,160/s here, for a peak of about 90 MB.
    GOGC="${FERRETDB_GOGC:-800}" start_daemon ferretdb "$LOGFILE" \
        "$BIN" "${backend[@]}" \
        --listen-addr="$HOST:$FERRETDB_PORT" \
        --state-dir="$STATE_DIR" \
        --debug-addr="$(debug_addr)" \
        --telemetry=disable \
        "${AUTH_FLAGS[@]}" \
        --log-level="${FERRETDB_LOG_LEVEL:-warn}"
    pid="$(read_pid ferretdb)"
    info "starting (pid $pid, ${backend[0]#--}, log ${LOGFILE#"$ROOT"/})"
    wait_ready "$pid" "$start"
    info "ready on $HOST:$FERRETDB_PORT in $(elapsed_s "$start")s"
}

cmd_down() {
    stop_daemon ferretdb "$MARKER" "$STOP_TIMEOUT_S"
    if managed_postgres; then "$POSTGRES_SH" down; fi
}

cmd_status() {
    local rc=0
    print_status ferretdb "$MARKER" "$FERRETDB_PORT" || rc=$?
    if managed_postgres; then "$POSTGRES_SH" status || rc=$?; fi
    return "$rc"
}

cmd_reset() {
    cmd_down
    rm -rf "$SQLITE_DIR" "$STATE_DIR"
    info "wiped $SQLITE_DIR and $STATE_DIR"
    if managed_postgres; then "$POSTGRES_SH" reset; fi
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
    provision) cmd_provision ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    *) usage ;;
    esac
}

main "$@"
