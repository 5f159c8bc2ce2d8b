#!/usr/bin/env bash
# One followed 1 GiB stream through a fresh scheduler and worker (bin/jobscheduler, free loopback
# ports), after two warm-up streams of 256 MiB, printing each process's CPU per GiB, its user and
# system time and its read/write syscalls (/proc/PID/io); with --jfr also a JFR recording of both
# processes over the stream (settings=profile, execution samples every 1 ms), for bench/jfr_top.py.
# Used for BENCHMARKS.md "Round three: output path"; bench/run --output gives the 3-round figures.
#   bench/output-profile.sh [--jfr OUTDIR] [BYTES]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JFR_DIR=
[ "${1:-}" = --jfr ] && { JFR_DIR=$2; shift 2; mkdir -p "$JFR_DIR"; }
BYTES=${1:-$((1 << 30))}
T=$(mktemp -d /tmp/jobscheduler-profile.XXXXXX)
. "$ROOT/bin/java-env.sh"; jobscheduler_find_java
gcc -O2 -o "$T/gen" "$ROOT/bench/gen.c"
read -r HP GP WP < <(python3 -c 'import socket
ss=[socket.socket() for _ in range(3)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))')
mkdir -p "$T/home" "$T/data" "$T/work"
cd "$T/home"
"$ROOT/bin/jobscheduler" scheduler --http-addr 127.0.0.1:$HP --grpc-addr 127.0.0.1:$GP > "$T/scheduler.log" 2>&1 & SP=$!
JOBSCHEDULER_JOBS_DATA_DIR=$T/data JOBSCHEDULER_JOBS_WORK_DIR=$T/work "$ROOT/bin/jobscheduler" worker \
    --grpc-addr 127.0.0.1:$WP --scheduler-addr 127.0.0.1:$GP > "$T/worker.log" 2>&1 & WPID=$!
trap 'kill $SP $WPID 2>/dev/null; wait $SP $WPID 2>/dev/null; rm -rf "$T"' EXIT
W=
for _ in $(seq 600); do
    W=$(curl -sf "http://127.0.0.1:$HP/workers" 2>/dev/null | python3 -c 'import json,sys
w=json.load(sys.stdin)["workers"]; print(w[0]["id"] if w else "")' 2>/dev/null || true)
    [ -n "$W" ] && break
    sleep 0.1
done
[ -n "$W" ] || { echo "the worker did not register" >&2; tail "$T"/*.log >&2; exit 1; }
stream() { # bytes: starts the generator and follows its output to the end
    local job
    job=$(curl -sf -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$HP/start" \
        -d '{"worker_id":"'$W'","command":"'$T/gen'","path":"'$1'"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
    curl -sS --fail "http://127.0.0.1:$HP/jobs/$job/output?follow=true" | cksum >/dev/null
}
stat_of() { # pid: utime stime (ticks) syscr syscw
    python3 -c 'import sys
f=open("/proc/%s/stat" % sys.argv[1]).read().rsplit(")", 1)[1].split()
io=dict(l.split(": ") for l in open("/proc/%s/io" % sys.argv[1]).read().splitlines())
print(f[11], f[12], io["syscr"], io["syscw"])' "$1"
}
stream $((256 << 20)); stream $((256 << 20))
if [ -n "$JFR_DIR" ]; then
    for p in $SP $WPID; do "$JAVA_HOME/bin/jcmd" $p JFR.start name=stream settings=profile 'jdk.ExecutionSample#period=1ms' >/dev/null; done
fi
s0=$(stat_of $SP); w0=$(stat_of $WPID); t0=$EPOCHREALTIME
stream "$BYTES"
t1=$EPOCHREALTIME; s1=$(stat_of $SP); w1=$(stat_of $WPID)
if [ -n "$JFR_DIR" ]; then
    "$JAVA_HOME/bin/jcmd" $SP JFR.stop name=stream filename="$JFR_DIR/scheduler.jfr" >/dev/null
    "$JAVA_HOME/bin/jcmd" $WPID JFR.stop name=stream filename="$JFR_DIR/worker.jfr" >/dev/null
fi
python3 -c 'import sys
b, t, tck = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
gib = b / 2**30
print("%d bytes in %.2f s: %.0f MB/s" % (b, t, b / t / 1e6))
for name, a, z in (("scheduler", sys.argv[4], sys.argv[5]), ("worker", sys.argv[6], sys.argv[7])):
    a, z = [int(x) for x in a.split()], [int(x) for x in z.split()]
    u, s = (z[0] - a[0]) / tck / gib, (z[1] - a[1]) / tck / gib
    print("%-9s CPU %.2f s/GiB (user %.2f, system %.2f); syscalls per GiB: %d reads, %d writes" % (name, u + s, u, s, (z[2] - a[2]) / gib, (z[3] - a[3]) / gib))' \
    "$BYTES" "$(python3 -c "print($t1 - $t0)")" "$(getconf CLK_TCK)" "$s0" "$s1" "$w0" "$w1"
