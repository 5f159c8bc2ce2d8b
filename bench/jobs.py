#!/usr/bin/env python3
"""Job-state scenarios of bench/run (standard library only), against the scheduler's HTTP API.

  jobs.py start PORT WORKER N COMMAND PATH      start N jobs (8 keep-alive clients); prints the count
  jobs.py freshness PORT WORKER N SCRIPT        N jobs of SCRIPT (sleep, then print the clock in ns,
                                                then exit), one after another; each is polled with
                                                POST /query every millisecond from shortly before its
                                                end; prints one JSON line: how long after the
                                                process's last act /query first said done (p50/p99/max)
"""
import calendar
import http.client
import json
import sys
import threading
import time


def client(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def call(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError("%s %s: %d %s" % (method, path, response.status, data[:200]))
    return data


def start(port, worker, n, command, path):
    n = int(n)
    count = [0]
    lock = threading.Lock()

    def run(share):
        conn = client(port)
        for _ in range(share):
            call(conn, "POST", "/start", {"worker_id": worker, "command": command, "path": path})
            with lock:
                count[0] += 1

    threads = [threading.Thread(target=run, args=(n // 8 + (1 if i < n % 8 else 0),)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(count[0])


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def freshness(port, worker, n, script):
    conn = client(port)
    after_exit, after_finish = [], []
    for _ in range(int(n)):
        job = json.loads(call(conn, "POST", "/start", {"worker_id": worker, "command": "sh", "path": script}))["job_id"]
        time.sleep(0.15)   # the script sleeps 0.2 s: start polling shortly before its end
        while True:
            status = json.loads(call(conn, "POST", "/query", {"job_id": job}))
            seen = time.time_ns()
            if status["done"]:
                break
            time.sleep(0.001)
        output = call(conn, "GET", "/jobs/%s/output?follow=false" % job).decode().split()
        stamp = int(output[-1])
        finished = status["finished_at"]
        after_exit.append((seen - stamp) / 1e6)
        if finished:
            # "2026-12-01T09:00:00.123Z": milliseconds of the worker's clock (the same machine).
            secs = calendar.timegm(time.strptime(finished[:19], "%Y-%m-%dT%H:%M:%S"))
            millis = secs * 1000 + int(finished[20:23])
            after_finish.append(seen / 1e6 - millis)
    print(json.dumps({"jobs": len(after_exit),
                      "p50_ms": round(percentile(after_exit, 50), 3),
                      "p99_ms": round(percentile(after_exit, 99), 3),
                      "max_ms": round(max(after_exit), 3),
                      "after_finished_at_p99_ms": round(percentile(after_finish, 99), 3) if after_finish else None}))


if __name__ == "__main__":
    {"start": start, "freshness": freshness}[sys.argv[1]](*sys.argv[2:])
