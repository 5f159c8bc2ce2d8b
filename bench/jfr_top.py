#!/usr/bin/env python3
"""Summarises a JFR recording's execution samples: top frames by self time, top frames by
inclusive time (any position in the stack), and where the time goes by package.
usage: jfr_top.py JFR_TOOL FILE.jfr"""
import collections
import json
import subprocess
import sys

jfr, path = sys.argv[1], sys.argv[2]
raw = subprocess.run([jfr, "print", "--json", "--stack-depth", "64", "--events", "jdk.ExecutionSample", path],
                     check=True, capture_output=True, text=True).stdout
events = json.loads(raw)["recording"]["events"]


def name(frame):
    m = frame["method"]
    return m["type"]["name"].replace("/", ".") + "." + m["name"]


def package(frame):
    n = frame["method"]["type"]["name"].replace("/", ".")
    parts = n.split(".")
    if n.startswith("io.jobscheduler"):
        return ".".join(parts[:3]) if len(parts) > 3 else n
    return ".".join(parts[:3])


self_c, incl_c, pkg_c, thread_c = (collections.Counter() for _ in range(4))
total = 0
for e in events:
    frames = (e["values"].get("stackTrace") or {}).get("frames") or []
    if not frames:
        continue
    total += 1
    self_c[name(frames[0])] += 1
    pkg_c[package(frames[0])] += 1
    for n in {name(f) for f in frames}:
        incl_c[n] += 1
    t = e["values"].get("sampledThread") or {}
    tn = t.get("javaName") or t.get("osName") or "?"
    thread_c["virtual" if t.get("virtual") else ("ForkJoinPool carrier" if "ForkJoinPool" in tn else tn.rstrip("0123456789-"))] += 1

print(f"{path}: {total} execution samples")
print("\nTop frames by self samples:")
for n, c in self_c.most_common(25):
    print(f"  {c * 100 / total:5.1f}%  {c:6d}  {n}")
print("\nTop frames by inclusive samples (on the stack anywhere):")
for n, c in incl_c.most_common(40):
    print(f"  {c * 100 / total:5.1f}%  {c:6d}  {n}")
print("\nSelf samples by package:")
for n, c in pkg_c.most_common(20):
    print(f"  {c * 100 / total:5.1f}%  {c:6d}  {n}")
print("\nSamples by thread kind:")
for n, c in thread_c.most_common(15):
    print(f"  {c * 100 / total:5.1f}%  {c:6d}  {n}")
for view in ("gc-pauses", "allocation-by-class"):
    r = subprocess.run([jfr, "view", "--width", "160", view, path], capture_output=True, text=True)
    print("\n" + (r.stdout if r.returncode == 0 else f"(jfr view {view}: {r.stderr.strip()})")[:4000])
