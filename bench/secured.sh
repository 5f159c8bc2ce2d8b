# Scenario 8, the secured path (issue 11): a second cluster with mutual TLS on both gRPC hops,
# HTTPS on the API and a bearer token, measured in the same rounds as the plaintext cluster's
# start c=16 and query c=64 so that their ratio is taken on the same machine state. Sourced by
# bench/run, which defines launch, free_ports, log, die, wrk_run and the temp dir.

SEC_HTTP_PORT= SEC_TOKEN= SEC_START_BODY= SEC_Q_RUN= SEC_PIDS=()

# sec_api method path [json]: the secured API, trusting the cluster's CA, with the token.
sec_api() {
    local args=(-sS --cacert "$TMP/pki/ca.pem" -H "Authorization: Bearer $SEC_TOKEN" -X "$1")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "https://127.0.0.1:$SEC_HTTP_PORT$2"
}

secured_cluster_start() {
    local pki=$TMP/pki http grpc wport wid
    log "scenario 8 (secured path): certificates, a token, a scheduler and a worker with mTLS, HTTPS, tokens"
    "$ROOT/bin/jobscheduler" certs ca "$pki" >/dev/null || die "certs ca failed"
    "$ROOT/bin/jobscheduler" certs issue "$pki" --role scheduler --name sched --san 127.0.0.1 --san localhost >/dev/null \
        || die "certs issue (scheduler) failed"
    "$ROOT/bin/jobscheduler" certs issue "$pki" --role worker --name w1 --san 127.0.0.1 --san localhost >/dev/null \
        || die "certs issue (worker) failed"
    SEC_TOKEN=$("$ROOT/bin/jobscheduler" token create --file "$pki/tokens.toml" --name bench --role operator) \
        || die "token create failed"
    read -r http grpc wport < <(free_ports 3)
    SEC_HTTP_PORT=$http
    cat > "$pki/scheduler.toml" <<TOML
[http_server]
addr = "127.0.0.1:$http"
use_tls = true
crt_file = "$pki/sched.pem"
key_file = "$pki/sched.key"
[grpc_server]
addr = "127.0.0.1:$grpc"
use_tls = true
crt_file = "$pki/sched.pem"
key_file = "$pki/sched.key"
client_ca_file = "$pki/ca.pem"
[workers]
use_tls = true
ca_file = "$pki/ca.pem"
crt_file = "$pki/sched.pem"
key_file = "$pki/sched.key"
[auth]
tokens_file = "$pki/tokens.toml"
TOML
    mkdir -p "$TMP/data-secured"
    cat > "$pki/worker.toml" <<TOML
[grpc_server]
addr = "127.0.0.1:$wport"
use_tls = true
crt_file = "$pki/w1.pem"
key_file = "$pki/w1.key"
client_ca_file = "$pki/ca.pem"
[scheduler]
addr = "127.0.0.1:$grpc"
use_tls = true
ca_file = "$pki/ca.pem"
crt_file = "$pki/w1.pem"
key_file = "$pki/w1.key"
[jobs]
data_dir = "$TMP/data-secured"
work_dir = "$TMP/work"
TOML
    launch secured-scheduler "$http,$grpc" -- "$ROOT/bin/jobscheduler" scheduler --config "$pki/scheduler.toml" \
        || die "the secured scheduler did not start"
    SEC_PIDS+=("$LAST_PID")
    launch secured-worker "$wport" -- "$ROOT/bin/jobscheduler" worker --config "$pki/worker.toml" \
        || die "the secured worker did not start"
    SEC_PIDS=("$LAST_PID" "${SEC_PIDS[@]}")
    local end=$(( $(date +%s) + 30 ))
    while [ "$(date +%s)" -lt $end ]; do
        wid=$(sec_api GET /workers 2>/dev/null | python3 -c '
import json,sys
try: print(json.load(sys.stdin)["workers"][0]["id"])
except Exception: print("")')
        [ -n "$wid" ] && break
        sleep 0.05
    done
    [ -n "$wid" ] || die "the secured worker did not register (see $TMP/logs/secured-*.log)"
    SEC_START_BODY='{"worker_id":"'$wid'","command":"/bin/true","path":""}'
    local job; job=$(sec_api POST /start '{"worker_id":"'$wid'","command":"sleep","path":"3600"}' | json_field job_id)
    SEC_Q_RUN='{"job_id":"'$job'"}'
    [ "$(sec_api POST /query "$SEC_Q_RUN" | json_field state)" = RUNNING ] || die "the secured sleep job is not RUNNING"
    log "secured cluster: https :$http, grpc :$grpc (mutual TLS), worker :$wport id $wid"
}

# Stops the secured cluster (worker first), once scenarios 1-2 are measured.
secured_cluster_stop() {
    [ -n "$SEC_HTTP_PORT" ] || return 0
    sec_api POST /stop "$SEC_Q_RUN" >/dev/null || true
    local pid; for pid in "${SEC_PIDS[@]}"; do stop_pid "$pid"; done
    SEC_HTTP_PORT=
}

# secured_run scenario round conns method path body: wrk_run on the secured cluster.
secured_run() {
    BENCH_URL="https://127.0.0.1:$SEC_HTTP_PORT" BENCH_TOKEN=$SEC_TOKEN wrk_run "$@"
}
