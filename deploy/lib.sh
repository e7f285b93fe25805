# shellcheck shell=bash
# Common variables and helpers for the deploy/*.sh scripts. Source it, don't run it.
#
# The sourcing script sets COMPONENT (used as the message prefix) before sourcing.
#
# Overridable by environment:
#   CACHE                  downloaded/built artifacts (default: $ROOT/.cache)
#   DATA                   data dirs, logs and pid files (default: $ROOT/.data)
#   KAFKA_PORT             Kafka PLAINTEXT listener (default: 9092)
#   KAFKA_CONTROLLER_PORT  Kafka KRaft controller listener (default: 9093)
#   FERRETDB_PORT          FerretDB (MongoDB wire protocol) listener (default: 27017)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CACHE:-$ROOT/.cache}"
DATA="${DATA:-$ROOT/.data}"
LOG_DIR="$DATA/logs"
RUN_DIR="$DATA/run"

# Everything binds to loopback only.
HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
FERRETDB_PORT="${FERRETDB_PORT:-27017}"

COMPONENT="${COMPONENT:-deploy}"

info() { printf '%s: %s\n' "$COMPONENT" "$*"; }
warn() { printf '%s: warning: %s\n' "$COMPONENT" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$COMPONENT" "$*" >&2
    exit 1
}

# need_cmd CMD HINT: die unless CMD is on PATH.
need_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"
}

# Monotonic-enough wall clock in milliseconds (bash 5 EPOCHREALTIME).
now_ms() {
    local us="${EPOCHREALTIME/[.,]/}"
    echo $((us / 1000))
}

# elapsed_s START_MS: seconds since START_MS, e.g. "3.42".
elapsed_s() {
    local ms=$(($(now_ms) - $1))
    printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_port HOST PORT TIMEOUT_S: wait until the port accepts connections.
wait_port() {
    local host=$1 port=$2 timeout_s=$3
    local deadline=$(($(now_ms) + timeout_s * 1000))
    until port_open "$host" "$port"; do
        (($(now_ms) < deadline)) || return 1
        sleep 0.1
    done
}

ensure_dirs() {
    mkdir -p "$LOG_DIR" "$RUN_DIR"
}

pid_file() { echo "$RUN_DIR/$1.pid"; }

# read_pid NAME: print the recorded pid of NAME (empty if none).
read_pid() {
    local f
    f="$(pid_file "$1")"
    if [[ -s $f ]]; then tr -dc '0-9' <"$f"; fi
}

# pid_matches PID MARKER: PID is alive and its command line contains MARKER
# (guards against signalling an unrelated process that reused a stale pid).
pid_matches() {
    local pid=$1 marker=$2
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ $cmdline == *"$marker"* ]]
}

# live_pid NAME MARKER: print the pid of NAME if it is alive, else nothing.
live_pid() {
    local pid
    pid="$(read_pid "$1")"
    if pid_matches "$pid" "$2"; then echo "$pid"; fi
}

# start_daemon NAME LOGFILE CMD...: run CMD detached (own session, stdin closed,
# output appended to LOGFILE) and record its pid.
start_daemon() {
    local name=$1 logfile=$2
    shift 2
    ensure_dirs
    local pidf
    pidf="$(pid_file "$name")"
    rm -f "$pidf"
    # The inner shell writes its own pid and then execs CMD, so the pid is CMD's.
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" \
        >>"$logfile" 2>&1 </dev/null &
    local tries=50
    while ((tries-- > 0)); do
        [[ -s $pidf ]] && return 0
        sleep 0.05
    done
    die "$name did not record its pid in $pidf"
}

# stop_daemon NAME MARKER TIMEOUT_S: SIGTERM, wait, then SIGKILL. Idempotent.
stop_daemon() {
    local name=$1 marker=$2 timeout_s=$3
    local pid
    pid="$(live_pid "$name" "$marker")"
    if [[ -z $pid ]]; then
        rm -f "$(pid_file "$name")"
        info "not running"
        return 0
    fi
    local start
    start="$(now_ms)"
    info "stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(($(now_ms) + timeout_s * 1000))
    while kill -0 "$pid" 2>/dev/null; do
        if (($(now_ms) >= deadline)); then
            warn "still alive after ${timeout_s}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    rm -f "$(pid_file "$name")"
    info "stopped in $(elapsed_s "$start")s"
}

# print_status NAME MARKER PORT: report and return 0 if running, 3 if stopped.
print_status() {
    local name=$1 marker=$2 port=$3
    local pid
    pid="$(live_pid "$name" "$marker")"
    if [[ -n $pid ]] && port_open "$HOST" "$port"; then
        info "running (pid $pid, $HOST:$port)"
        return 0
    fi
    if [[ -n $pid ]]; then
        info "starting or unhealthy (pid $pid alive, $HOST:$port not answering)"
    else
        info "stopped"
    fi
    return 3
}

# tail_log LOGFILE: show the end of a log after a failure.
tail_log() {
    [[ -f $1 ]] || return 0
    printf '%s: last lines of %s:\n' "$COMPONENT" "$1" >&2
    tail -n 30 "$1" | sed 's/^/    /' >&2
}

# rotate_log LOGFILE: keep one previous log as LOGFILE.prev.
rotate_log() {
    ensure_dirs
    if [[ -s $1 ]]; then mv -f "$1" "$1.prev"; fi
    : >"$1"
}
