#!/usr/bin/env python3
"""Scenario 7 of bench/run: placement and the queue (issue 14).

    placement.py HTTP_PORT JOBS CLIENTS pinned|placed WORKER_ID...

Submits JOBS `/bin/true` starts from CLIENTS keep-alive connections, either without `worker_id`
(placed: the scheduler picks, queueing when every worker is full) or with one (pinned: round
robin over the workers, each start queued for its worker when full), then waits until no job is
queued or running. Prints one JSON line: submission rate, time until the queue drained and every
job ended (from the first submission), end-to-end throughput, the answers' statuses, and how many
jobs each worker ran (from GET /jobs). A tenth as many jobs go first, untimed, so both modes are
measured on warm JVMs; the per-worker counts include them.
"""
import http.client
import json
import sys
import threading
import time


def main():
    port, jobs, clients, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    workers = sys.argv[5:]
    statuses = {}
    failures = []
    lock = threading.Lock()
    next_job = [0]
    total = [jobs]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = {}
        while True:
            with lock:
                i = next_job[0]
                if i >= total[0]:
                    break
                next_job[0] += 1
            body = {"command": "/bin/true"}
            if mode == "pinned":
                body["worker_id"] = workers[i % len(workers)]
            conn.request("POST", "/start", json.dumps(body), {"Content-Type": "application/json"})
            response = conn.getresponse()
            answer = response.read()
            mine[response.status] = mine.get(response.status, 0) + 1
            if response.status not in (201, 202):
                with lock:
                    failures.append(answer.decode(errors="replace")[:200])
        conn.close()
        with lock:
            for status, n in mine.items():
                statuses[status] = statuses.get(status, 0) + n

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def count(state):
        conn.request("GET", "/jobs?limit=1&state=" + state)
        return len(json.loads(conn.getresponse().read())["jobs"])

    def run(n):
        """Submits n jobs; answers (seconds to submit, seconds until none is queued or running)."""
        next_job[0] = 0
        total[0] = n
        t0 = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        submitted = time.monotonic() - t0
        deadline = time.monotonic() + 1800
        while count("QUEUED") or count("RUNNING"):
            if time.monotonic() > deadline:
                raise SystemExit("the queue did not drain within 30 minutes")
            time.sleep(0.05)
        return submitted, time.monotonic() - t0

    run(max(1, jobs // 10))
    statuses.clear()
    submitted, drained = run(jobs)

    per_worker = {}
    cursor = None
    while True:
        conn.request("GET", "/jobs?limit=1000" + ("&next=" + cursor if cursor else ""))
        page = json.loads(conn.getresponse().read())
        for job in page["jobs"]:
            per_worker[job["worker_id"]] = per_worker.get(job["worker_id"], 0) + 1
        cursor = page["next"]
        if not cursor:
            break
    counts = [per_worker.get(w, 0) for w in workers]
    even = sum(counts) / len(counts) if counts else 0
    print(json.dumps({
        "mode": mode, "jobs": jobs, "clients": clients,
        "submit_s": round(submitted, 3), "submit_rate": round(jobs / submitted, 1),
        "drain_s": round(drained, 3), "throughput": round(jobs / drained, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "per_worker": counts,
        "max_off_even_pct": round(max(abs(c - even) for c in counts) / even * 100, 1) if even else None,
        "failures": failures[:3],
    }))


if __name__ == "__main__":
    main()
