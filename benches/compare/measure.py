#!/usr/bin/env python3
"""Measurements for the side-by-side benchmark (benches/compare/run).

Reads `/usr/bin/time -v` reports, checks the counts each tool reports,
collects one JSON line per measured run, and prints the Markdown tables.

Usage:
  measure.py max-check-id STORE
  measure.py count-redliner STORE SINCE STDOUT --baseline X --changed Y --unchanged Z
  measure.py count-urlwatch REPORT --new X --changed Y
  measure.py record RESULTS --tool T --run R --rep K --n N --time FILE --counts JSON
                    [--store DIR] [--cache FILE]
  measure.py compare-table RESULTS N
  measure.py scale-table RESULTS N_SMALL N_LARGE
  measure.py latency-table RESULTS --hosts H --latency-ms L --delay-s D
"""

import argparse
import json
import os
import pathlib
import re
import sqlite3
import statistics
import sys

MIB = 1024 * 1024
RUNS = {
    "a": "a first run, all new",
    "b": "b N/10 pages edited",
    "c": "c nothing changed",
}
# The issue's goals at N = 1,000: redliner CPU / urlwatch CPU per run, and
# peak RSS redliner / urlwatch.
CPU_GOAL = {"a": 1 / 10, "b": 1 / 10, "c": 1 / 30}
RSS_GOAL = 1 / 4
# The bare pipeline (examples/bare_pipeline.rs, FLOOR=1): what any watcher on
# the mandated crates must spend at least, per mode.
FLOORS = {
    "floor-fetch": "fetch only (reqwest, one thread)",
    "floor-parse": "fetch + scraper parse + text of `section.content`",
    "floor-keep": "and kept as issue 9's store keeps a first snapshot (raw zstd, md, JSON zstd, syncfs, SQLite)",
}


def fail(message):
    print(f"measure: {message}", file=sys.stderr)
    sys.exit(1)


def cmd_time(a):
    """Runs a command under `/usr/bin/time -v -o FILE` (whose peak RSS is the
    command's own: a fork of this Python process would count its pages) and
    rewrites the CPU times in FILE with microseconds from `wait4`: GNU time
    prints them to the hundredth of a second, a tenth of a 0.1 s run. The
    CPU includes GNU time's own, about a millisecond."""
    import subprocess

    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    child = subprocess.Popen(["/usr/bin/time", "-v", "-o", a.output, *command])
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    path = pathlib.Path(a.output)
    if path.exists():
        text = path.read_text()
        text = re.sub(r"(User time \(seconds\)):\s*\S+", rf"\1: {usage.ru_utime:.6f}", text)
        text = re.sub(r"(System time \(seconds\)):\s*\S+", rf"\1: {usage.ru_stime:.6f}", text)
        path.write_text(text)
    sys.exit(code if code >= 0 else 128 - code)


def parse_time(path):
    """CPU (user + sys, s), peak RSS (KiB) and wall (s) from `time -v`."""
    text = pathlib.Path(path).read_text()

    def field(label):
        m = re.search(re.escape(label) + r":\s*(\S+)", text)
        if not m:
            fail(f"`{label}` missing from {path}")
        return m.group(1)

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    return {
        "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
        "user": float(field("User time (seconds)")),
        "sys": float(field("System time (seconds)")),
        "rss_kib": int(field("Maximum resident set size (kbytes)")),
        "wall": wall,
    }


def index_path(store):
    return pathlib.Path(store) / "redliner.sqlite"


def query(store, sql, args=()):
    path = index_path(store)
    if not path.exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def cmd_max_check_id(a):
    rows = query(a.store, "SELECT COALESCE(MAX(id), 0) FROM checks")
    print(rows[0][0] if rows else 0)


def json_objects(text):
    """The JSON values printed one after another (`check --format json`)."""
    decoder = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        value, i = decoder.raw_decode(text, i)
        out.append(value)


def cmd_count_redliner(a):
    outcomes = dict(query(a.store, "SELECT outcome, COUNT(*) FROM checks WHERE id > ? GROUP BY outcome", (a.since,)))
    printed = json_objects(pathlib.Path(a.stdout).read_text("utf-8"))
    counts = {
        "baseline": outcomes.get("baseline", 0),
        "changed": outcomes.get("changed", 0),
        "unchanged": outcomes.get("unchanged", 0),
        "other": sum(v for k, v in outcomes.items() if k not in ("baseline", "changed", "unchanged")),
        "redlines": len(printed),
    }
    want = {"baseline": a.baseline, "changed": a.changed, "unchanged": a.unchanged, "other": 0, "redlines": a.changed}
    wrong = [f"{k} {counts[k]} (expected {v})" for k, v in want.items() if counts[k] != v]
    if wrong:
        detail = {k: v for k, v in outcomes.items()}
        fail(f"redliner reported wrong counts: {', '.join(wrong)}; outcomes {detail}")
    print(json.dumps(counts))


def cmd_count_urlwatch(a):
    text = pathlib.Path(a.report).read_text("utf-8", errors="replace")
    # The text report's summary lists one line per job: `01. NEW: name`.
    counts = {
        kind.lower(): len(re.findall(rf"(?m)^\s*\d+\. {kind}: ", text))
        for kind in ("NEW", "CHANGED", "ERROR", "UNCHANGED")
    }
    want = {"new": a.new, "changed": a.changed, "error": 0}
    wrong = [f"{k} {counts[k]} (expected {v})" for k, v in want.items() if counts[k] != v]
    if wrong:
        fail(f"urlwatch reported wrong counts: {', '.join(wrong)}")
    print(json.dumps(counts))


def du_bytes(path):
    total = 0
    p = pathlib.Path(path)
    if p.is_file():
        return p.stat().st_size
    for root, _dirs, files in os.walk(p):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except FileNotFoundError:
                pass
    return total


def cmd_record(a):
    row = {"tool": a.tool, "run": a.run, "rep": a.rep, "n": a.n, **parse_time(a.time), "counts": json.loads(a.counts)}
    if a.store:
        row["store_bytes"] = du_bytes(a.store)
        rows = query(a.store, "SELECT COUNT(*) FROM snapshots")
        row["snapshots"] = rows[0][0] if rows else 0
    if a.cache:
        row["cache_bytes"] = du_bytes(a.cache)
    with open(a.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    print(
        f"{a.tool} {a.run} rep {a.rep} (N={a.n}): CPU {row['cpu']:.2f} s, "
        f"peak RSS {row['rss_kib'] / 1024:.1f} MiB, wall {row['wall']:.2f} s, counts {row['counts']}",
        file=sys.stderr,
    )


def load(results):
    return [json.loads(line) for line in pathlib.Path(results).read_text().splitlines() if line.strip()]


def median(rows, tool, run, key, n=None):
    vals = [r[key] for r in rows if r["tool"] == tool and r["run"] == run and (n is None or r["n"] == n) and key in r]
    return statistics.median(vals) if vals else None


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def ratio(x, y):
    return None if x is None or y is None or y == 0 else x / y


def count_reps(rows, tool, n=None):
    return len({r["rep"] for r in rows if r["tool"] == tool and (n is None or r["n"] == n)})


def cmd_compare_table(a):
    rows = load(a.results)
    reps = count_reps(rows, "redliner", a.n)
    has_uw = any(r["tool"] == "urlwatch" for r in rows)
    print(f"| N = {a.n:,} (medians of {reps}) | urlwatch CPU s | redliner CPU s | redliner / urlwatch | goal "
          "| urlwatch peak RSS MiB | redliner peak RSS MiB | RSS redliner / urlwatch | urlwatch wall s | redliner wall s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run, label in RUNS.items():
        if run == "b":
            label = f"b {(a.n + 9) // 10:,} pages edited"
        uw_cpu = median(rows, "urlwatch", run, "cpu")
        rl_cpu = median(rows, "redliner", run, "cpu")
        uw_rss = median(rows, "urlwatch", run, "rss_kib")
        rl_rss = median(rows, "redliner", run, "rss_kib")
        print(
            f"| {label} | {fmt(uw_cpu, '.3f')} | {fmt(rl_cpu, '.3f')} | {fmt(ratio(rl_cpu, uw_cpu), '.3f')} "
            f"| ≤ {CPU_GOAL[run]:.3f} | {fmt(uw_rss and uw_rss / 1024, '.1f')} | {fmt(rl_rss and rl_rss / 1024, '.1f')} "
            f"| {fmt(ratio(rl_rss, uw_rss), '.2f')} | {fmt(median(rows, 'urlwatch', run, 'wall'), '.2f')} "
            f"| {fmt(median(rows, 'redliner', run, 'wall'), '.2f')} |"
        )
    floors = [(t, label) for t, label in FLOORS.items() if any(r["tool"] == t for r in rows)]
    if floors:
        print()
        print("| bare pipeline, same pages (no rules, no stamp) | CPU s | / urlwatch run a | / urlwatch run c | peak RSS MiB |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for tool, label in floors:
            cpu = median(rows, tool, "a", "cpu")
            rss = median(rows, tool, "a", "rss_kib")
            print(
                f"| {label} | {fmt(cpu, '.3f')} | {fmt(ratio(cpu, median(rows, 'urlwatch', 'a', 'cpu')), '.3f')} "
                f"| {fmt(ratio(cpu, median(rows, 'urlwatch', 'c', 'cpu')), '.3f')} | {fmt(rss and rss / 1024, '.1f')} |"
            )
    print()
    print("| after run | redliner store MiB | snapshots | KiB per snapshot | urlwatch cache MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for run in RUNS:
        store = median(rows, "redliner", run, "store_bytes")
        snaps = median(rows, "redliner", run, "snapshots")
        cache = median(rows, "urlwatch", run, "cache_bytes") if has_uw else None
        print(
            f"| {run} | {fmt(store and store / MIB, '.1f')} | {fmt(snaps, '.0f')} "
            f"| {fmt(ratio(store, snaps) and ratio(store, snaps) / 1024, '.1f')} | {fmt(cache and cache / MIB, '.1f')} |"
        )


def cmd_scale_table(a):
    rows = load(a.results)
    small, large = a.n_small, a.n_large
    print(f"| redliner, per page | N = {small:,} CPU s | ms per page | N = {large:,} CPU s | ms per page "
          f"| per-page ratio (goal ≤ 1.2) | peak RSS MiB at {small:,} | peak RSS MiB at {large:,} (goal < 200 MB) "
          f"| wall s at {large:,} |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run, label in RUNS.items():
        cs = median(rows, "redliner", run, "cpu", small)
        cl = median(rows, "redliner", run, "cpu", large)
        ps = cs and cs / small * 1000
        pl = cl and cl / large * 1000
        rs = median(rows, "redliner", run, "rss_kib", small)
        rl = median(rows, "redliner", run, "rss_kib", large)
        print(
            f"| {label} | {fmt(cs, '.2f')} | {fmt(ps, '.3f')} | {fmt(cl, '.1f')} | {fmt(pl, '.3f')} "
            f"| {fmt(ratio(pl, ps), '.2f')} | {fmt(rs and rs / 1024, '.1f')} | {fmt(rl and rl / 1024, '.1f')} "
            f"| {fmt(median(rows, 'redliner', run, 'wall', large), '.1f')} |"
        )
    print()
    print("| store after run | N | MiB | snapshots | KiB per snapshot |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for n in (small, large):
        for run in RUNS:
            store = median(rows, "redliner", run, "store_bytes", n)
            snaps = median(rows, "redliner", run, "snapshots", n)
            print(f"| {run} | {n:,} | {fmt(store and store / MIB, '.1f')} | {fmt(snaps, '.0f')} "
                  f"| {fmt(ratio(store, snaps) and ratio(store, snaps) / 1024, '.1f')} |")


def cmd_latency_table(a):
    rows = load(a.results)
    print(f"| {a.n:,} targets over {a.hosts} hosts, {a.latency_ms} ms per response, min_host_delay {a.delay_s:g} s "
          "| wall s | bound s | wall / bound (goal ≤ 2) | CPU s | most requests at once on one host "
          "| requests at once, all hosts | shortest gap on one host s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    per_host = -(-a.n // a.hosts)
    bound = per_host * (a.latency_ms / 1000 + a.delay_s)
    for run in ("a", "c"):
        wall = median(rows, "redliner", run, "wall")
        if wall is None:
            continue
        srv = [r["server"] for r in rows if r["tool"] == "redliner" and r["run"] == run and "server" in r]
        most = max((s["max_in_flight_per_host"] for s in srv), default=None)
        total = max((s["max_in_flight"] for s in srv), default=None)
        gap = min((s["min_gap_s"] for s in srv if s["min_gap_s"] is not None), default=None)
        print(
            f"| {RUNS[run]} | {wall:.1f} | {bound:.1f} | {wall / bound:.2f} | {fmt(median(rows, 'redliner', run, 'cpu'), '.2f')} "
            f"| {fmt(most, 'd')} | {fmt(total, 'd')} | {fmt(gap, '.3f')} |"
        )
    print()
    print(f"bound = pages per host ({per_host}) × (latency {a.latency_ms / 1000:g} s + delay {a.delay_s:g} s); "
          "gap: from the end of one response to the next request on the same host")


def cmd_attach_server(a):
    """Adds the latency server's figures to the last row of RESULTS."""
    rows = pathlib.Path(a.results).read_text().splitlines()
    last = json.loads(rows[-1])
    last["server"] = json.loads(pathlib.Path(a.stats).read_text())
    rows[-1] = json.dumps(last)
    pathlib.Path(a.results).write_text("\n".join(rows) + "\n")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("time")
    s.add_argument("output")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(f=cmd_time)
    s = sub.add_parser("max-check-id")
    s.add_argument("store")
    s.set_defaults(f=cmd_max_check_id)
    s = sub.add_parser("count-redliner")
    s.add_argument("store")
    s.add_argument("since", type=int)
    s.add_argument("stdout")
    for k in ("baseline", "changed", "unchanged"):
        s.add_argument(f"--{k}", type=int, required=True)
    s.set_defaults(f=cmd_count_redliner)
    s = sub.add_parser("count-urlwatch")
    s.add_argument("report")
    s.add_argument("--new", type=int, required=True)
    s.add_argument("--changed", type=int, required=True)
    s.set_defaults(f=cmd_count_urlwatch)
    s = sub.add_parser("record")
    s.add_argument("results")
    for k in ("tool", "run", "time", "counts"):
        s.add_argument(f"--{k}", required=True)
    s.add_argument("--rep", type=int, required=True)
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--store")
    s.add_argument("--cache")
    s.set_defaults(f=cmd_record)
    s = sub.add_parser("attach-server")
    s.add_argument("results")
    s.add_argument("stats")
    s.set_defaults(f=cmd_attach_server)
    s = sub.add_parser("compare-table")
    s.add_argument("results")
    s.add_argument("n", type=int)
    s.set_defaults(f=cmd_compare_table)
    s = sub.add_parser("scale-table")
    s.add_argument("results")
    s.add_argument("n_small", type=int)
    s.add_argument("n_large", type=int)
    s.set_defaults(f=cmd_scale_table)
    s = sub.add_parser("latency-table")
    s.add_argument("results")
    s.add_argument("n", type=int)
    s.add_argument("--hosts", type=int, required=True)
    s.add_argument("--latency-ms", type=int, required=True)
    s.add_argument("--delay-s", type=float, required=True)
    s.set_defaults(f=cmd_latency_table)
    a = p.parse_args(argv)
    a.f(a)


if __name__ == "__main__":
    main(sys.argv[1:])
