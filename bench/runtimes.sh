# The other two ways to run the same jar (issue 19): the jlink runtime of `bin/jobscheduler dist`
# (its own java, its own AOT cache) and plain `java -jar` with the JVM's default flags (as the
# design card runs it: only the flags the jar needs to start). Each is a cluster of its own (a
# scheduler and a worker), measured in the same rounds as the launcher's cluster for start c=1,
# start c=16 and query c=64. Sourced by bench/run, which defines launch, start_scheduler,
# start_worker, wrk_run, api and the temp dir.

DIST_HOME=$ROOT/target/dist/jobscheduler
declare -A RT_PORT=() RT_START=() RT_QRUN=() RT_PIDS=()
RUNTIMES=()

# The dist, built when it is missing or older than the jar.
runtime_dist_build() {
    if [ ! -x "$DIST_HOME/bin/jobscheduler" ] || [ "$JAR" -nt "$DIST_HOME/app/jobscheduler.jar" ]; then
        log "building the jlink dist (bin/jobscheduler dist, about 40 s)"
        (cd "$ROOT" && bin/jobscheduler dist) >&2 || die "bin/jobscheduler dist failed"
    fi
}

runtime_clusters_start() {
    local rt job saved=("${RUN_CMD[@]}") sp=$SCHED_PID hp=$HTTP_PORT gp=$GRPC_PORT
    local wp=$WORKER_PID wport=$WORKER_PORT wid=$WORKER_ID
    runtime_dist_build
    for rt in dist direct; do
        case $rt in
            dist) RUN_CMD=("$DIST_HOME/bin/jobscheduler") ;;
            direct) RUN_CMD=("$JAVA" "${JVM_FLAGS[@]}" -jar "$JAR") ;;
        esac
        start_scheduler "scheduler-$rt"
        start_worker "worker-$rt" "$GRPC_PORT" "$HTTP_PORT"
        RT_PORT[$rt]=$HTTP_PORT
        RT_PIDS[$rt]="$WORKER_PID $SCHED_PID"
        RT_START[$rt]='{"worker_id":"'$WORKER_ID'","command":"/bin/true","path":""}'
        job=$(api POST /start '{"worker_id":"'$WORKER_ID'","command":"sleep","path":"3600"}' | json_field job_id)
        RT_QRUN[$rt]='{"job_id":"'$job'"}'
        RUNTIMES+=("$rt")
        log "cluster '$rt' (${RUN_CMD[0]}): http :$HTTP_PORT, worker id $WORKER_ID"
    done
    RUN_CMD=("${saved[@]}")
    SCHED_PID=$sp HTTP_PORT=$hp GRPC_PORT=$gp WORKER_PID=$wp WORKER_PORT=$wport WORKER_ID=$wid
}

runtime_clusters_stop() {
    local rt pid
    for rt in "${RUNTIMES[@]}"; do
        for pid in ${RT_PIDS[$rt]}; do stop_pid "$pid"; done
    done
    RUNTIMES=()
}

# runtime_twin scenario round [seconds]: the same config on the other runtimes, right after the launcher's.
runtime_twin() {
    local rt body
    for rt in "${RUNTIMES[@]}"; do
        case $1 in
            start_c1) BENCH_URL="http://127.0.0.1:${RT_PORT[$rt]}" wrk_run "start_c1_$rt" "$2" 1 POST /start "${RT_START[$rt]}" "${3:-}" ;;
            start_c16) BENCH_URL="http://127.0.0.1:${RT_PORT[$rt]}" wrk_run "start_c16_$rt" "$2" 16 POST /start "${RT_START[$rt]}" "${3:-}" ;;
            query_running_c64) BENCH_URL="http://127.0.0.1:${RT_PORT[$rt]}" wrk_run "query_running_c64_$rt" "$2" 64 POST /query "${RT_QRUN[$rt]}" "${3:-}" ;;
        esac
    done
}
