#!/usr/bin/env python3
"""Draws the benchmark results as one SVG, by hand (standard library only): throughput per
scenario next to its floor, latency percentiles per HTTP scenario, output MB/s, and the
registry/footprint figures against their targets. Bars are medians; whiskers are min-max.
usage: chart.py RESULTS.json OUT.svg"""
import json
import math
import sys
from xml.sax.saxutils import escape

data = json.load(open(sys.argv[1]))
rows = {r["key"]: r for r in data["rows"]}
W = 1100
out = []
y0 = 0


def text(x, y, s, size=12, anchor="start", weight="normal", fill="#222"):
    out.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
               f'font-weight="{weight}" fill="{fill}">{escape(str(s))}</text>')


def fmt(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def hbars(title, items, unit, log=False):
    """items: (label, row key, colour). Horizontal bars with min-max whiskers."""
    global y0
    items = [(l, rows[k], c) for l, k, c in items if k in rows]
    if not items:
        return
    text(20, y0 + 22, title, 15, weight="bold")
    y = y0 + 36
    left, width = 330, 620
    vmax = max(r["max"] for _, r, _ in items) * 1.08 or 1.0
    vmin = max(min(r["min"] for _, r, _ in items) / 2, 1e-3) if log else 0
    def sx(v):
        if log:
            v = max(v, vmin)
            return left + width * (math.log10(v) - math.log10(vmin)) / (math.log10(vmax) - math.log10(vmin))
        return left + width * v / vmax
    for label, r, colour in items:
        text(left - 8, y + 12, label, 11, "end")
        out.append(f'<rect x="{left}" y="{y + 2}" width="{max(1, sx(r["median"]) - left):.1f}" height="14" fill="{colour}"/>')
        out.append(f'<line x1="{sx(r["min"]):.1f}" y1="{y + 9}" x2="{sx(r["max"]):.1f}" y2="{y + 9}" stroke="#000"/>')
        for v in (r["min"], r["max"]):
            out.append(f'<line x1="{sx(v):.1f}" y1="{y + 4}" x2="{sx(v):.1f}" y2="{y + 14}" stroke="#000"/>')
        extra = f'  ({r["ratio"]:.2f}x floor)' if "ratio" in r else ""
        if "met" in r:
            extra += "  target " + ("met" if r["met"] else "MISSED")
        text(max(sx(r["max"]), sx(r["median"])) + 6, y + 13, f'{fmt(r["median"])} {unit}{extra}', 11)
        y += 20
    text(left, y + 12, ("log scale; " if log else "") + "bar = median, whisker = min-max over rounds", 10, fill="#666")
    y0 = y + 24


FLOOR, OURS, OURS2 = "#9aa5b1", "#2b6cb0", "#d69e2e"
meta = data["meta"]
text(20, 24, f"jobscheduler benchmark ({meta['mode']}) — {meta['date']} — commit {meta['commit']}", 16, weight="bold")
text(20, 42, f"{meta['nproc']} cores, {meta['cpu']}; {meta['params']}", 11, fill="#555")
y0 = 50
hbars("1. POST /start of /bin/true: jobs/s vs the C posix_spawn floor", [
    ("C floor, 1 thread", "floor_spawn_t1", FLOOR), ("start c=1", "start_c1", OURS),
    ("C floor, 2 threads", "floor_spawn_t2", FLOOR), ("start c=16", "start_c16", OURS),
    ("ProcessBuilder default (cmp)", "pb_default", OURS2), ("ProcessBuilder VFORK (cmp)", "pb_vfork", OURS2)], "/s")
hbars("2. POST /query: req/s vs the trivial route (GET /observe/health)", [
    ("health c=1 (floor)", "floor_http_c1", FLOOR), ("query running c=1", "query_running_c1", OURS),
    ("query finished c=1", "query_finished_c1", OURS),
    ("health c=64 (floor)", "floor_http_c64", FLOOR), ("query running c=64", "query_running_c64", OURS),
    ("query finished c=64", "query_finished_c64", OURS)], "req/s")
lat = []
for scen, name in (("health_c1", "health c=1"), ("start_c1", "start c=1"), ("query_running_c1", "query running c=1"),
                   ("query_finished_c1", "query finished c=1"), ("health_c64", "health c=64"),
                   ("start_c16", "start c=16"), ("query_running_c64", "query running c=64"),
                   ("query_finished_c64", "query finished c=64")):
    for p in ("p50", "p90", "p99"):
        key = f"_lat_{scen}_{p}"
        vs = [r[f"{p}_ms"] for r in data["raw"] if r["scenario"] == scen]
        if vs:
            vs.sort()
            rows[key] = {"median": vs[len(vs) // 2] if len(vs) % 2 else (vs[len(vs) // 2 - 1] + vs[len(vs) // 2]) / 2,
                         "min": vs[0], "max": vs[-1]}
            lat.append((f"{name} {p}", key, {"p50": "#63b3ed", "p90": "#3182ce", "p99": "#1a365d"}[p]))
hbars("Latency percentiles per HTTP scenario (ms)", lat, "ms", log=True)
hbars("3. Output followed end to end (MB/s)", [
    ("generator | cksum (floor)", "floor_pipe", FLOOR), ("1 reader", "output_1", OURS),
    ("N readers, aggregate", "output_n", OURS), ("N readers, each", "output_n_each", OURS2)], "MB/s")
hbars("4-5. Registry at scale and footprint", [
    ("registration rate (workers/s)", "registration", OURS), ("scheduler exec->ready (ms)", "ready_scheduler", OURS),
    ("  ... java -jar directly (ms)", "ready_scheduler_direct", OURS2), ("worker exec->registered (ms)", "registered_worker", OURS),
    ("scheduler RSS, 1,000 workers (MB)", "registry_rss", OURS), ("idle scheduler RSS (MB)", "rss_scheduler", OURS),
    ("idle worker RSS (MB)", "rss_worker", OURS)], "")
hbars("4. Scheduler CPU at rest with 1,000 workers (% of one core)", [("CPU at rest", "registry_cpu", OURS)], "%")
svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y0 + 10}" viewBox="0 0 {W} {y0 + 10}" '
       f'font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="#fff"/>'
       + "".join(out) + "</svg>\n")
open(sys.argv[2], "w").write(svg)
