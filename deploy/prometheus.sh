#!/usr/bin/env bash
# Local Prometheus from Debian's `prometheus` package (apt-get download + dpkg-deb -x into the
# cache: nothing installed system-wide, no root needed once the package lists are there).
#
# Usage: deploy/prometheus.sh {provision|up|down|status|reset|check}
#   provision  download and unpack the package into $CACHE/prometheus (skipped if there)
#   up         provision if needed, check the config, start, wait until /-/ready answers
#   down       stop (SIGTERM, SIGKILL after 30 s)
#   status     exit 0 if running, 3 if stopped
#   reset      down, then wipe $DATA/prometheus (keeps the cache)
#   check      promtool: check every config and the alert rules, run the rules' unit tests
#
# Environment: PROMETHEUS_PORT (9090), PROMETHEUS_CONFIG (deploy/prometheus/prometheus.yml),
#   PROMETHEUS_RETENTION (7d), and DATA/CACHE as in deploy/lib.sh. Tests start a second
#   instance with their own DATA, port and config.
set -euo pipefail

COMPONENT=prometheus
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONF_DIR="$ROOT/deploy/prometheus"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
PROMETHEUS_CONFIG="${PROMETHEUS_CONFIG:-$CONF_DIR/prometheus.yml}"
PROMETHEUS_RETENTION="${PROMETHEUS_RETENTION:-7d}"
PACKAGE=prometheus
PKG_ROOT="$CACHE/prometheus/root"
BIN="$PKG_ROOT/usr/bin/prometheus"
PROMTOOL="$PKG_ROOT/usr/bin/promtool"
VERSION_STAMP="$CACHE/prometheus/version"
PROM_DATA="$DATA/prometheus"
LOGFILE="$LOG_DIR/prometheus.log"
START_TIMEOUT_S=30
STOP_TIMEOUT_S=30
# Marker that identifies this instance in /proc/PID/cmdline (one per data dir).
MARKER="--storage.tsdb.path=$PROM_DATA"

usage() {
    echo "usage: $0 {provision|up|down|status|reset|check}" >&2
    exit 2
}

is_provisioned() {
    [[ -x $BIN && -x $PROMTOOL && -s $VERSION_STAMP ]]
}

# download_deb DIR: fetch the package's .deb into DIR (refreshing the package lists once
# if they are missing or stale and we are allowed to).
download_deb() {
    local dir=$1 log="$CACHE/prometheus/apt.log"
    if (cd "$dir" && apt-get download "$PACKAGE") >"$log" 2>&1; then return 0; fi
    if [[ $(id -u) -eq 0 ]]; then
        info "apt-get download failed; refreshing the package lists (apt-get update)"
        if apt-get update -qq >>"$log" 2>&1 &&
            (cd "$dir" && apt-get download "$PACKAGE") >>"$log" 2>&1; then
            return 0
        fi
    fi
    tail_log "$log"
    die "could not download Debian's '$PACKAGE' package (are Debian's package lists there and its mirror reachable? as root: apt-get update; full log: $log)"
}

cmd_provision() {
    if is_provisioned; then
        info "provisioned ($(cat "$VERSION_STAMP"))"
        return 0
    fi
    need_cmd apt-get "Prometheus comes from Debian's package; this needs a Debian-based machine"
    need_cmd dpkg-deb "Prometheus comes from Debian's package; this needs a Debian-based machine"
    local start tmp deb
    start="$(now_ms)"
    mkdir -p "$CACHE/prometheus"
    tmp="$(mktemp -d "$CACHE/prometheus/dl.XXXXXX")"
    # shellcheck disable=SC2064 # expand $tmp now
    trap "rm -rf '$tmp'" EXIT
    info "downloading Debian's $PACKAGE package"
    download_deb "$tmp"
    deb="$(compgen -G "$tmp/${PACKAGE}_*.deb" | head -n 1)" || die "no .deb in $tmp after download"
    dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb could not unpack $deb"
    local version
    version="$("$tmp/root/usr/bin/prometheus" --version 2>&1 | head -n 1)" ||
        die "the unpacked prometheus does not run: $version"
    "$tmp/root/usr/bin/promtool" --version >/dev/null 2>&1 || die "the unpacked promtool does not run"
    rm -rf "$PKG_ROOT"
    mv "$tmp/root" "$PKG_ROOT"
    echo "$version" >"$VERSION_STAMP"
    info "provisioned $version from $(basename "$deb") in $(elapsed_s "$start")s"
}

need_provisioned() {
    is_provisioned || cmd_provision
}

# http_status PATH: the HTTP status code Prometheus answers for GET PATH (empty if none).
http_status() {
    local line
    {
        exec 3<>"/dev/tcp/$HOST/$PROMETHEUS_PORT" &&
            printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$HOST" >&3 &&
            IFS=' ' read -r -t 2 _ line _ <&3
    } 2>/dev/null || true
    echo "${line:-}"
}

wait_ready() {
    local pid=$1 start=$2
    local deadline=$((start + START_TIMEOUT_S * 1000))
    until [[ "$(http_status /-/ready)" == 200 ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail_log "$LOGFILE"
            die "process $pid exited during startup (see $LOGFILE)"
        fi
        if (($(now_ms) >= deadline)); then
            tail_log "$LOGFILE"
            die "not ready after ${START_TIMEOUT_S}s (pid $pid still alive; see $LOGFILE)"
        fi
        sleep 0.1
    done
}

cmd_up() {
    local start pid
    start="$(now_ms)"
    pid="$(live_pid prometheus "$MARKER")"
    if [[ -n $pid ]]; then
        info "already running (pid $pid, http://$HOST:$PROMETHEUS_PORT)"
        wait_ready "$pid" "$start"
        return 0
    fi
    ! port_open "$HOST" "$PROMETHEUS_PORT" ||
        die "$HOST:$PROMETHEUS_PORT is already in use by another process (set PROMETHEUS_PORT)"
    [[ -f $PROMETHEUS_CONFIG ]] || die "no config file $PROMETHEUS_CONFIG"
    need_provisioned
    "$PROMTOOL" check config "$PROMETHEUS_CONFIG" >/dev/null ||
        die "promtool rejects $PROMETHEUS_CONFIG (run '$PROMTOOL check config $PROMETHEUS_CONFIG')"

    mkdir -p "$PROM_DATA"
    rotate_log "$LOGFILE"
    start_daemon prometheus "$LOGFILE" \
        "$BIN" \
        --config.file="$PROMETHEUS_CONFIG" \
        "$MARKER" \
        --storage.tsdb.retention.time="$PROMETHEUS_RETENTION" \
        --web.listen-address="$HOST:$PROMETHEUS_PORT" \
        --web.enable-lifecycle \
        --log.level=warn
    pid="$(read_pid prometheus)"
    info "starting (pid $pid, config ${PROMETHEUS_CONFIG#"$ROOT"/}, log ${LOGFILE#"$ROOT"/})"
    wait_ready "$pid" "$start"
    info "ready on http://$HOST:$PROMETHEUS_PORT in $(elapsed_s "$start")s"
}

cmd_down() {
    stop_daemon prometheus "$MARKER" "$STOP_TIMEOUT_S"
}

cmd_status() {
    print_status prometheus "$MARKER" "$PROMETHEUS_PORT"
}

cmd_reset() {
    cmd_down
    rm -rf "$PROM_DATA"
    info "wiped $PROM_DATA"
}

# The configs (each also checks the rule files it names), the rules, and their unit tests.
cmd_check() {
    need_provisioned
    local config
    for config in "$CONF_DIR"/prometheus*.yml; do
        "$PROMTOOL" check config "$config"
    done
    "$PROMTOOL" check rules "$CONF_DIR/alerts.yml"
    (cd "$CONF_DIR" && "$PROMTOOL" test rules alerts.test.yml)
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
    provision) cmd_provision ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    check) cmd_check ;;
    *) usage ;;
    esac
}

main "$@"
