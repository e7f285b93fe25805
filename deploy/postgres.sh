#!/usr/bin/env bash
# Local PostgreSQL for FerretDB's PostgreSQL backend: a private cluster under $DATA/postgres,
# loopback only, trust authentication for 127.0.0.1, no Unix socket.
#
# Usage: deploy/postgres.sh {provision|up|down|status|reset|url}
#   provision  find Debian's PostgreSQL server binaries (/usr/lib/postgresql/N/bin); when they
#              are missing and we are root, apt-get install them
#   up         provision if needed, initdb on first use, start, wait until it accepts
#              connections, create the database $POSTGRES_DB
#   down       fast shutdown (SIGINT; SIGQUIT after 30 s, then SIGKILL)
#   status     exit 0 if running and accepting connections, 3 otherwise
#   reset      down, then wipe $DATA/postgres (keeps the binaries)
#   url        print the URL FerretDB connects to
#
# Environment: POSTGRES_PORT (5433), POSTGRES_DB (ferretdb), POSTGRES_BIN_DIR (newest
#   /usr/lib/postgresql/*/bin), POSTGRES_OS_USER (when root: postgres, else nobody; initdb
#   and postgres refuse to run as root), and DATA/CACHE as in deploy/lib.sh.
#
# Why apt-get install and not apt-get download + dpkg-deb -x (as deploy/prometheus.sh does):
# the server links about forty shared libraries, several of them (ICU, libxml2, libpq for
# initdb and pg_ctl) missing from a minimal Debian, so unpacking the one package does not
# run; apt-get resolves them, and its postinst creates the `postgres` user we run as.
# Debian's package also configures a cluster of its own, 15/main on port 5432 (started or
# not, depending on policy-rc.d): hence the default port 5433 here.
#
# Tuned for a test box: fsync stays on (a crash of the machine does not corrupt the
# cluster), synchronous_commit=off (a commit does not wait for its WAL flush: a power cut
# may lose the last ~0.6 s of commits, never consistency). Production runs MongoDB.
set -euo pipefail

COMPONENT=postgres
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POSTGRES_PORT="${POSTGRES_PORT:-5433}"
POSTGRES_DB="${POSTGRES_DB:-ferretdb}"
SUPERUSER=postgres
PG_DATA="$DATA/postgres"
LOGFILE="$LOG_DIR/postgres.log"
START_TIMEOUT_S=60
STOP_TIMEOUT_S=30
# Marker that identifies this instance in /proc/PID/cmdline (one per data dir).
MARKER="postgres -D $PG_DATA "

usage() {
    echo "usage: $0 {provision|up|down|status|reset|url}" >&2
    exit 2
}

# bin_dir: the directory with the server binaries (empty if none is installed).
bin_dir() {
    if [[ -n ${POSTGRES_BIN_DIR:-} ]]; then
        echo "$POSTGRES_BIN_DIR"
        return 0
    fi
    local dir best=""
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x $dir/postgres && -x $dir/initdb && -x $dir/pg_isready && -x $dir/psql ]] || continue
        # Newest major version last in version order.
        best="$(printf '%s\n%s\n' "$best" "$dir" | sed '/^$/d' | sort -V | tail -n 1)"
    done
    echo "$best"
}

is_provisioned() {
    local dir
    dir="$(bin_dir)"
    [[ -n $dir && -x $dir/postgres && -x $dir/initdb && -x $dir/pg_isready && -x $dir/psql ]]
}

cmd_provision() {
    if is_provisioned; then
        info "provisioned ($("$(bin_dir)/postgres" --version))"
        return 0
    fi
    [[ -z ${POSTGRES_BIN_DIR:-} ]] || die "POSTGRES_BIN_DIR=$POSTGRES_BIN_DIR has no postgres, initdb, pg_isready and psql"
    [[ $(id -u) -eq 0 ]] ||
        die "PostgreSQL's server is not installed; as root: apt-get install postgresql (or set POSTGRES_BIN_DIR)"
    need_cmd apt-get "PostgreSQL comes from Debian's package; this needs a Debian-based machine"
    local start log="$CACHE/postgres-apt.log"
    start="$(now_ms)"
    mkdir -p "$CACHE"
    info "installing Debian's postgresql package (apt-get install)"
    local -a install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql)
    if ! "${install[@]}" >"$log" 2>&1; then
        info "apt-get install failed; refreshing the package lists (apt-get update)"
        if ! { apt-get update -qq && "${install[@]}"; } >>"$log" 2>&1; then
            tail_log "$log"
            die "could not install Debian's postgresql package (full log: $log)"
        fi
    fi
    is_provisioned || die "postgresql installed, but no server binaries under /usr/lib/postgresql/*/bin"
    info "provisioned $("$(bin_dir)/postgres" --version) in $(elapsed_s "$start")s"
}

# os_user: who runs initdb and postgres (they refuse root).
os_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
    elif [[ -n ${POSTGRES_OS_USER:-} ]]; then
        echo "$POSTGRES_OS_USER"
    elif getent passwd postgres >/dev/null; then
        echo postgres
    else
        echo nobody
    fi
}

# as_user: the command prefix (one word a line) that runs a command as os_user, in place:
# setpriv execs, so a pid recorded before it is the server's own. Empty when not root.
as_user() {
    [[ $(id -u) -eq 0 ]] || return 0
    local user
    user="$(os_user)"
    printf '%s\n' setpriv "--reuid=$user" "--regid=$(id -g "$user")" --init-groups --reset-env
}

# Server settings, given on the command line so that every start uses this script's.
server_args() {
    printf '%s\n' -D "$PG_DATA" \
        -c listen_addresses="$HOST" \
        -c port="$POSTGRES_PORT" \
        -c unix_socket_directories= \
        -c fsync=on \
        -c synchronous_commit=off \
        -c shared_buffers=256MB \
        -c max_wal_size=2GB \
        -c checkpoint_timeout=15min \
        -c log_min_messages=warning \
        -c log_checkpoints=off
}

cmd_initdb() {
    [[ -s $PG_DATA/PG_VERSION ]] && return 0
    local user dir
    local -a prefix
    user="$(os_user)"
    dir="$(bin_dir)"
    mapfile -t prefix < <(as_user)
    mkdir -p "$PG_DATA"
    [[ -z "$(ls -A "$PG_DATA")" ]] || die "$PG_DATA is not empty and has no cluster; run '$0 reset'"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$user:$(id -g "$user")" "$PG_DATA"
        chmod 700 "$PG_DATA"
        (cd / && "${prefix[@]}" test -w "$PG_DATA") ||
            die "user '$user' cannot reach $PG_DATA (a parent directory is closed to it); set DATA elsewhere or POSTGRES_OS_USER"
    fi
    info "initdb $PG_DATA (as $user)"
    (cd / && "${prefix[@]}" "$dir/initdb" -D "$PG_DATA" -U "$SUPERUSER" -E UTF8 --locale=C \
        --auth=trust --no-instructions) >>"$LOGFILE" 2>&1 || {
        tail_log "$LOGFILE"
        die "initdb failed (see $LOGFILE)"
    }
    # Trust, over TCP from 127.0.0.1 only; no other line (the server has no Unix socket).
    printf '%s\n' '# TYPE DATABASE USER ADDRESS METHOD' \
        'host all all 127.0.0.1/32 trust' >"$PG_DATA/pg_hba.conf"
}

accepting() {
    "$(bin_dir)/pg_isready" -q -h "$HOST" -p "$POSTGRES_PORT" -U "$SUPERUSER" -d postgres -t 2
}

wait_ready() {
    local pid=$1 start=$2
    local deadline=$((start + START_TIMEOUT_S * 1000))
    until accepting; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail_log "$LOGFILE"
            die "process $pid exited during startup (see $LOGFILE)"
        fi
        if (($(now_ms) >= deadline)); then
            tail_log "$LOGFILE"
            die "not accepting connections after ${START_TIMEOUT_S}s (see $LOGFILE)"
        fi
        sleep 0.1
    done
}

psql_c() {
    "$(bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$POSTGRES_PORT" -U "$SUPERUSER" -d postgres -tAc "$1"
}

ensure_database() {
    [[ "$(psql_c "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_DB'")" == 1 ]] && return 0
    psql_c "CREATE DATABASE \"$POSTGRES_DB\"" || die "could not create database $POSTGRES_DB"
    info "created database $POSTGRES_DB"
}

cmd_up() {
    local start pid
    start="$(now_ms)"
    pid="$(live_pid postgres "$MARKER")"
    if [[ -n $pid ]]; then
        wait_ready "$pid" "$start"
        ensure_database
        info "already running (pid $pid, $HOST:$POSTGRES_PORT)"
        return 0
    fi
    ! port_open "$HOST" "$POSTGRES_PORT" ||
        die "$HOST:$POSTGRES_PORT is already in use by another process (set POSTGRES_PORT)"
    is_provisioned || cmd_provision
    need_cmd setpriv "it comes with util-linux"
    rotate_log "$LOGFILE"
    cmd_initdb
    local -a prefix args
    mapfile -t prefix < <(as_user)
    mapfile -t args < <(server_args)
    # The log file is opened here (by us), so the server's user need not write to $LOG_DIR.
    start_daemon postgres "$LOGFILE" "${prefix[@]}" "$(bin_dir)/postgres" "${args[@]}"
    pid="$(read_pid postgres)"
    info "starting (pid $pid, $("$(bin_dir)/postgres" --version), log ${LOGFILE#"$ROOT"/})"
    wait_ready "$pid" "$start"
    ensure_database
    info "ready on $HOST:$POSTGRES_PORT in $(elapsed_s "$start")s ($(cmd_url))"
}

# Fast shutdown (SIGINT: clients are disconnected, then a checkpoint), never a smart one
# (SIGTERM waits for every client to leave); immediate (SIGQUIT), then SIGKILL, if stuck.
cmd_down() {
    local pid
    pid="$(live_pid postgres "$MARKER")"
    if [[ -z $pid ]]; then
        rm -f "$(pid_file postgres)"
        info "not running"
        return 0
    fi
    local start signal deadline
    start="$(now_ms)"
    info "stopping (pid $pid)"
    for signal in INT QUIT KILL; do
        kill "-$signal" "$pid" 2>/dev/null || true
        deadline=$(($(now_ms) + STOP_TIMEOUT_S * 1000))
        while kill -0 "$pid" 2>/dev/null && (($(now_ms) < deadline)); do sleep 0.1; done
        kill -0 "$pid" 2>/dev/null || break
        warn "still alive after ${STOP_TIMEOUT_S}s of SIG$signal"
    done
    rm -f "$(pid_file postgres)"
    info "stopped in $(elapsed_s "$start")s"
}

cmd_status() {
    local pid
    pid="$(live_pid postgres "$MARKER")"
    if [[ -n $pid ]] && is_provisioned && accepting; then
        info "running (pid $pid, $HOST:$POSTGRES_PORT)"
        return 0
    fi
    if [[ -n $pid ]]; then
        info "starting or unhealthy (pid $pid alive, $HOST:$POSTGRES_PORT not accepting)"
    else
        info "stopped"
    fi
    return 3
}

cmd_reset() {
    cmd_down
    rm -rf "$PG_DATA"
    info "wiped $PG_DATA"
}

cmd_url() {
    echo "postgres://$SUPERUSER@$HOST:$POSTGRES_PORT/$POSTGRES_DB"
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
    provision) cmd_provision ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    url) cmd_url ;;
    *) usage ;;
    esac
}

main "$@"
