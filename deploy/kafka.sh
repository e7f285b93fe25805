#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft combined mode) from Maven Central jars, no Docker.
#
# Usage: deploy/kafka.sh {provision|up|down|status|reset}
#   provision  copy the runtime classpath of deploy/kafka/pom.xml into $CACHE/kafka/libs
#   up         provision if needed, format storage once, start, wait until ready
#   down       stop (SIGTERM, SIGKILL after 30 s)
#   status     exit 0 if running, 3 if stopped
#   reset      down, then wipe $DATA/kafka (keeps the cache)
#
# Optional SASL_SSL listener (off unless KAFKA_SASL_SSL_PORT is set), for testing Kafka
# security on a second, separate broker (own DATA and ports): KAFKA_SASL_SSL_PORT, and
# KAFKA_SCRAM_USERNAME/KAFKA_SCRAM_PASSWORD (no default; the SCRAM-SHA-512 and -256 user is
# created when the storage is formatted). A CA and the broker's certificate (for 127.0.0.1
# and localhost) are generated with openssl into $DATA/kafka/tls; clients trust ca.crt.
set -euo pipefail

COMPONENT=kafka
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$ROOT/deploy/kafka"
POM="$KAFKA_DIR/pom.xml"
LOG4J_CONF="$KAFKA_DIR/log4j2.properties"
TEMPLATE="$KAFKA_DIR/server.properties"
SASL_SSL_TEMPLATE="$KAFKA_DIR/sasl-ssl.properties"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
LIBS="$CACHE/kafka/libs"
STAMP="$CACHE/kafka/pom.sha256"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

KAFKA_DATA="$DATA/kafka"
PROPS="$KAFKA_DATA/server.properties"
LOG_DIRS="$KAFKA_DATA/log"
FORMAT_STAMP="$KAFKA_DATA/formatted-for"
TLS_DIR="$KAFKA_DATA/tls"
KEYSTORE="$TLS_DIR/broker.p12"
KEYSTORE_PASSWORD_FILE="$TLS_DIR/keystore.password"
LOGFILE="$LOG_DIR/kafka.log"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
START_TIMEOUT_S=60
STOP_TIMEOUT_S=30
# Marker that identifies our process in /proc/PID/cmdline.
MARKER="kafka.Kafka"
# Printed by KafkaRaftServer once broker and controller are up.
READY_LINE="Kafka Server started"

usage() {
    echo "usage: $0 {provision|up|down|status|reset}" >&2
    exit 2
}

pom_hash() {
    { sha256sum "$POM" && echo "$DEPENDENCY_PLUGIN"; } | sha256sum | cut -d' ' -f1
}

is_provisioned() {
    [[ -f $STAMP && "$(cat "$STAMP")" == "$(pom_hash)" ]] &&
        compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null
}

cmd_provision() {
    if is_provisioned; then
        info "provisioned ($(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS)"
        return 0
    fi
    need_cmd java "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
    need_cmd mvn "install Apache Maven (Debian: apt-get install maven)"
    [[ -z "$(live_pid kafka "$LIBS/")" ]] ||
        die "kafka is running with the old classpath; run '$0 down' first"

    local start tmp
    start="$(now_ms)"
    info "resolving runtime classpath of ${POM#"$ROOT"/} with Maven"
    mkdir -p "$CACHE/kafka"
    tmp="$(mktemp -d "$CACHE/kafka/libs.tmp.XXXXXX")"
    local mvn_log="$CACHE/kafka/mvn.log"
    if ! mvn -B -Dstyle.color=never -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" \
        -DoutputDirectory="$tmp" -DincludeScope=runtime >"$mvn_log" 2>&1; then
        rm -rf "$tmp"
        tail_log "$mvn_log"
        die "mvn failed to resolve $POM (is Maven Central reachable? full log: $mvn_log)"
    fi
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    pom_hash >"$STAMP"
    info "provisioned $(find "$LIBS" -name '*.jar' | wc -l) jars in $(elapsed_s "$start")s"
}

# kafka_tool ARGS...: run a Kafka CLI class (quiet logging, to stderr).
kafka_tool() {
    java -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.log.level=WARN -cp "$LIBS/*" "$@"
}

# sed replacement-safe form of a value.
sed_escape() {
    printf '%s' "$1" | sed 's/[&|\\]/\\&/g'
}

sasl_ssl_enabled() {
    [[ -n $KAFKA_SASL_SSL_PORT ]]
}

# ensure_tls: a CA and a broker certificate signed by it, in a PKCS12 keystore (made once).
ensure_tls() {
    [[ -s $KEYSTORE && -s $KEYSTORE_PASSWORD_FILE && -s $TLS_DIR/ca.crt ]] && return 0
    need_cmd openssl "install OpenSSL (Debian: apt-get install openssl)"
    info "generating a local CA and the broker's TLS certificate in $TLS_DIR"
    rm -rf "$TLS_DIR"
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    (
        cd "$TLS_DIR"
        openssl rand -hex 24 >keystore.password
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=Parity local CA" \
            -keyout ca.key -out ca.crt \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout broker.key -out broker.csr
        printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$HOST" >broker.ext
        openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
            -extfile broker.ext -out broker.crt
        openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.crt -name kafka \
            -passout file:keystore.password -out broker.p12
    ) >"$TLS_DIR/openssl.log" 2>&1 || {
        tail_log "$TLS_DIR/openssl.log"
        die "could not generate the TLS material in $TLS_DIR"
    }
}

render_config() {
    mkdir -p "$KAFKA_DATA"
    local extra=""
    if sasl_ssl_enabled; then extra=",SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT"; fi
    (
        umask 077 # with SASL_SSL, the file holds the keystore password
        sed -e "s|@HOST@|$HOST|g" \
            -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
            -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
            -e "s|@LOG_DIRS@|$(sed_escape "$LOG_DIRS")|g" \
            -e "s|@EXTRA_LISTENERS@|$extra|g" \
            "$TEMPLATE" >"$PROPS.tmp"
        if sasl_ssl_enabled; then
            sed -e "s|@KEYSTORE@|$(sed_escape "$KEYSTORE")|g" \
                -e "s|@KEYSTORE_PASSWORD@|$(cat "$KEYSTORE_PASSWORD_FILE")|g" \
                "$SASL_SSL_TEMPLATE" >>"$PROPS.tmp"
        fi
    )
    mv -f "$PROPS.tmp" "$PROPS"
}

# The controller endpoint is recorded in the metadata log at format time.
format_key() {
    if sasl_ssl_enabled; then
        echo "$HOST:$KAFKA_CONTROLLER_PORT scram:$KAFKA_SCRAM_USERNAME"
    else
        echo "$HOST:$KAFKA_CONTROLLER_PORT"
    fi
}

format_storage() {
    if [[ -f $LOG_DIRS/meta.properties ]]; then
        if [[ -f $FORMAT_STAMP && "$(cat "$FORMAT_STAMP")" != "$(format_key)" ]]; then
            die "storage was formatted for controller $(cat "$FORMAT_STAMP"), now $(format_key); run '$0 reset'"
        fi
        return 0
    fi
    local cluster_id
    cluster_id="$(kafka_tool kafka.tools.StorageTool random-uuid | tail -n 1)"
    [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid returned '$cluster_id'"
    local -a format=(kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$PROPS")
    if sasl_ssl_enabled; then
        local user="name=$KAFKA_SCRAM_USERNAME,password=$KAFKA_SCRAM_PASSWORD"
        format+=(--add-scram "SCRAM-SHA-512=[$user]" --add-scram "SCRAM-SHA-256=[$user]")
    fi
    info "formatting $LOG_DIRS (cluster id $cluster_id)"
    # The tool and its arguments go through a java argument file, readable by this user
    # only and removed after: on the command line the password would show in `ps`.
    # A signal that ends the script meanwhile removes it too (the EXIT trap).
    local argfile="$KAFKA_DATA/format.args"
    # shellcheck disable=SC2064 # the path is fixed now
    trap "rm -f '$argfile'" EXIT
    (umask 077 && java_argfile "${format[@]}" >"$argfile")
    local status=0
    kafka_tool "@$argfile" | sed "s/^/$COMPONENT: /" || status=$?
    rm -f "$argfile"
    trap - EXIT
    ((status == 0)) || die "StorageTool format failed"
    format_key >"$FORMAT_STAMP"
}

# java_argfile ARG...: the arguments as a java launcher @-file, one quoted per line
# (inside quotes a backslash escapes the next character, \n \r \t stand for those
# characters, and '#' starts no comment; a line break would end the argument).
java_argfile() {
    local arg
    for arg in "$@"; do
        arg=${arg//\\/\\\\}
        arg=${arg//\"/\\\"}
        arg=${arg//$'\n'/\\n}
        arg=${arg//$'\r'/\\r}
        printf '"%s"\n' "${arg//$'\t'/\\t}"
    done
}

# wait_ready PID START_MS: port open and READY_LINE logged, process still alive.
wait_ready() {
    local pid=$1 start=$2
    local deadline=$((start + START_TIMEOUT_S * 1000))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail_log "$LOGFILE"
            die "process $pid exited during startup (see $LOGFILE)"
        fi
        if port_open "$HOST" "$KAFKA_PORT" && grep -qF "$READY_LINE" "$LOGFILE"; then
            return 0
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
    pid="$(live_pid kafka "$MARKER")"
    if [[ -n $pid ]]; then
        if port_open "$HOST" "$KAFKA_PORT"; then
            info "already running (pid $pid, $HOST:$KAFKA_PORT)"
            return 0
        fi
        info "pid $pid is alive but $HOST:$KAFKA_PORT is not answering yet; waiting"
        wait_ready "$pid" "$start"
        info "ready in $(elapsed_s "$start")s"
        return 0
    fi
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" $KAFKA_SASL_SSL_PORT; do
        ! port_open "$HOST" "$port" ||
            die "$HOST:$port is already in use by another process (set KAFKA_PORT/KAFKA_CONTROLLER_PORT/KAFKA_SASL_SSL_PORT)"
    done
    if sasl_ssl_enabled; then
        [[ -n ${KAFKA_SCRAM_USERNAME:-} && -n ${KAFKA_SCRAM_PASSWORD:-} ]] ||
            die "KAFKA_SASL_SSL_PORT needs KAFKA_SCRAM_USERNAME and KAFKA_SCRAM_PASSWORD"
        [[ $KAFKA_SCRAM_USERNAME$KAFKA_SCRAM_PASSWORD != *[],=[]* ]] ||
            die "KAFKA_SCRAM_USERNAME/PASSWORD must not contain ',', '=', '[' or ']'"
        ensure_tls
    fi

    is_provisioned || cmd_provision
    render_config
    format_storage

    rotate_log "$LOGFILE"
    # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM options
    start_daemon kafka "$LOGFILE" \
        java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$LIBS/*" \
        kafka.Kafka "$PROPS"
    pid="$(read_pid kafka)"
    info "starting (pid $pid, log ${LOGFILE#"$ROOT"/})"
    wait_ready "$pid" "$start"
    info "ready on $HOST:$KAFKA_PORT in $(elapsed_s "$start")s"
}

cmd_down() {
    stop_daemon kafka "$MARKER" "$STOP_TIMEOUT_S"
}

cmd_status() {
    print_status kafka "$MARKER" "$KAFKA_PORT"
}

cmd_reset() {
    cmd_down
    rm -rf "$KAFKA_DATA"
    info "wiped $KAFKA_DATA"
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
