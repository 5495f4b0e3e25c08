#!/usr/bin/env python3
"""bench/report.py — the Markdown table of bench/run, built from the logs of bench/run-sdk-source,
bench/run-s3 and bench/run-snowflake (their "SUMMARY ..." and "RESULT phase=..." lines).

One row per benchmark: the figure, the baseline measured in the same run and what it is, the
ratio figure/baseline, and the peak RSS of the process that did the work. A figure that is not
in the logs is printed as "MISSING" and makes the exit status 1. Python 3 standard library only.

  python3 bench/report.py --logs bench/results/logs --out bench/results/report.md \\
      --build build --benches sdk-source,s3,snowflake --start 2026-01-01T00:00:00Z
"""
import argparse
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone

MISSING = "MISSING"


def parse_kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def read_log(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def summaries(lines, kind):
    """The key=value dicts of the "SUMMARY <kind> ..." lines."""
    prefix = "SUMMARY " + kind + " "
    return [parse_kv(l[len(prefix):]) for l in lines if l.startswith(prefix)]


def phases(lines):
    """s3_bench's "RESULT phase=<name> ..." lines by phase name."""
    out = {}
    for l in lines:
        if l.startswith("RESULT phase="):
            kv = parse_kv(l[len("RESULT "):])
            out[kv.get("phase")] = kv
    return out


def num(d, key):
    """d[key] as a float, or None when absent, empty or not a number."""
    if d is None:
        return None
    try:
        v = float(d.get(key, ""))
    except ValueError:
        return None
    return v


def fmt(v, unit="", digits=0):
    if v is None:
        return MISSING
    s = f"{v:,.{digits}f}"
    return f"{s} {unit}".strip()


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


class Table:
    def __init__(self):
        self.rows = []
        self.missing = []

    def add(self, bench, figure, baseline_what, baseline, r, rss, notes=""):
        cells = [bench, figure, baseline_what, baseline,
                 MISSING if r is None else f"{r:.2f}", rss, notes]
        if any(MISSING in c for c in cells[1:6]):
            self.missing.append(bench)
        self.rows.append(cells)

    def markdown(self):
        head = ["benchmark", "figure", "baseline (same run)", "baseline figure",
                "figure / baseline", "peak RSS", "notes"]
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join(["---", "---:", "---", "---:", "---:", "---:", "---"]) + "|"]
        for r in self.rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        return "\n".join(lines)


def mib(v):
    return fmt(v, "MiB")


def sdk_source_rows(t, lines):
    disk = (summaries(lines, "disk") or [None])[0]
    disk_mbps = num(disk, "mb_per_s")
    ingest = summaries(lines, "ingest") or [{"protocol": "(none ran)"}]
    for row in ingest:
        eps, mbps = num(row, "events_per_s"), num(row, "mb_per_s")
        failed = row.get("failed", "?")
        t.add(f"collector ingest, {row.get('protocol')}",
              f"{fmt(eps, 'events/s')}, {fmt(mbps, 'MB/s', 1)}",
              "raw disk write (1 MiB blocks + fsync, same filesystem)",
              fmt(disk_mbps, "MB/s"), ratio(mbps, disk_mbps), mib(num(row, "peak_rss_mb")),
              f"acknowledged = fsync'd; {row.get('events', '?')} events, batch "
              f"{row.get('batch', '?')}, {row.get('connections', '?')} connections; "
              f"p99 {row.get('p99_ms', '?')} ms; {failed} failed")
    read = (summaries(lines, "read") or [None])[0]
    copy = (summaries(lines, "copy") or [None])[0]
    t.add("source read (sdk-source vtable, 1 thread)",
          f"{fmt(num(read, 'mb_per_s'), 'MB/s')}, {fmt(num(read, 'records_per_s'), 'records/s')}",
          "map + copy the same store files once, 1 thread",
          f"{fmt(num(copy, 'mb_per_s'), 'MB/s')}, {fmt(num(copy, 'records_per_s'), 'records/s')}",
          ratio(num(read, "records_per_s"), num(copy, "records_per_s")),
          mib(num(read, "peak_rss_mb")),
          f"ratio in records/s; per CPU-second {fmt(num(read, 'cpu_mb_per_s'), 'MB/s')}; "
          f"{read.get('records', '?') if read else '?'} records, batch "
          f"{read.get('batch', '?') if read else '?'}, best of {read.get('passes', '?') if read else '?'}")


def s3_rows(t, lines):
    p = phases(lines)
    f, d, c, u, s = (p.get(k) for k in ("file", "deflate", "curl", "upload", "s3"))
    info = next((parse_kv(l) for l in lines if l.startswith("INFO events=")), {})
    level, par = info.get("level", "?"), info.get("parallelism", "?")
    f_in, d_in = num(f, "in_mbps"), num(d, "in_mbps")
    comp = ratio(num(f, "in_mb"), num(f, "out_mb"))
    t.add(f"file:// export (gzip {level}, {par} workers)",
          f"{fmt(f_in, 'MB/s', 1)}, {fmt(num(f, 'records_per_s'), 'records/s')}",
          "libdeflate gzip alone, 2 threads, same level, same bytes",
          fmt(d_in, "MB/s", 1), ratio(f_in, d_in), mib(num(f, "peak_rss_mb")),
          f"MB/s of NDJSON in; partition, gather, compress, write, fsync, rename; "
          f"compressed {fmt(comp, 'x', 1)}")
    sig = any("SigV4 verification on" in l for l in lines)
    moto = "moto, SigV4 checked" if sig else "moto"
    u_out, c_out = num(u, "out_mbps"), num(c, "out_mbps")
    t.add(f"S3 upload, weir S3 client ({moto})",
          fmt(u_out, "MB/s", 1),
          f"curl --aws-sigv4 -Z PUT of the same objects, {par} at once",
          fmt(c_out, "MB/s", 1), ratio(u_out, c_out), mib(num(u, "peak_rss_mb")),
          f"compressed MB/s; {par} threads; the file:// objects above")
    # Baseline of the end-to-end export: its two stages done by the best tools alone on the
    # same bytes, libdeflate compressing and curl PUTting the result, and the slower of the two
    # (a pipeline cannot outrun its slowest stage). curl's rate of compressed bytes is turned
    # into NDJSON bytes by the compression ratio.
    s_in = num(s, "in_mbps")
    slower = None
    if d_in and c_out and comp:
        curl_in = c_out * comp
        slower = min(d_in, curl_in)
        which = "libdeflate" if d_in <= curl_in else "curl PUT"
    retries = s.get("retries", "?") if s else "?"
    t.add(f"S3 export end to end ({moto})",
          f"{fmt(s_in, 'MB/s', 1)}, {fmt(num(s, 'records_per_s'), 'records/s')}",
          "the slower stage alone: libdeflate (above) or curl PUT (above) in NDJSON MB/s",
          fmt(slower, "MB/s", 1) + (f" ({which})" if slower else ""), ratio(s_in, slower),
          mib(num(s, "peak_rss_mb")),
          f"MB/s of NDJSON in; compress and PUT overlap; {retries} retries")


def snowflake_rows(t, lines):
    w = (summaries(lines, "warehouse") or [None])[0]
    plugin, bare, copy = (num(w, k) for k in ("plugin_rows_per_s", "bare_rows_per_s",
                                               "copy_rows_per_s"))
    rss = mib(num(w, "plugin_peak_rss_mb"))
    rounds = w.get("rounds", "?") if w else "?"
    median = w.get("median_share_pct", "?") if w else "?"
    rows = w.get("rows", "?") if w else "?"
    batch = w.get("batch", "?") if w else "?"
    t.add("warehouse load, snowflake plugin (PostgreSQL 15 via psqlODBC)",
          fmt(plugin, "rows/s"),
          "bare ODBC array-insert loop, same rows, same binding",
          fmt(bare, "rows/s"), ratio(plugin, bare), rss,
          f"best of {rounds} rounds; median of the paired per-round shares {median}%; "
          f"{rows} rows, {batch} per commit; parse + stage + MERGE + ledger + COMMIT")
    t.add("warehouse load vs the server's bulk path",
          fmt(plugin, "rows/s"), "psql \\copy into the same EVENTS table",
          fmt(copy, "rows/s"), ratio(plugin, copy), rss,
          "COPY skips SQL per row, staging, MERGE and the ledger: the far ceiling")


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_facts(args):
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
            mem = f"{kb / 1048576:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    with open("/proc/loadavg") as f:
        end_load = " ".join(f.read().split()[:3])
    bench_dir = os.environ.get("WEIR_BENCH_DIR") or os.path.join(args.build, "bench-data")
    df = sh("df", "-PT", bench_dir if os.path.isdir(bench_dir) else args.build).splitlines()
    fs = ""
    if len(df) >= 2:
        parts = df[1].split()
        fs = f"{parts[1]} on {parts[0]}"
    build_type = ""
    try:
        with open(os.path.join(args.build, "CMakeCache.txt")) as f:
            build_type = next((l.split("=", 1)[1].strip() for l in f
                               if l.startswith("CMAKE_BUILD_TYPE:")), "")
    except OSError:
        pass
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = sh("git", "-C", root, "rev-parse", "--short", "HEAD")
    elapsed = ""
    try:
        start = datetime.strptime(args.start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        elapsed = f", {(datetime.now(timezone.utc) - start).total_seconds():.0f} s in all"
    except ValueError:
        pass
    return [
        f"- date: {args.start} (UTC), {'--quick' if args.quick == '1' else 'full sizes'}{elapsed}",
        f"- machine: {os.cpu_count()} cores ({model}), {mem}, {platform.system()} "
        f"{platform.release()}",
        f"- load average: {args.start_load} at the start, {end_load} at the end "
        "(other work on the machine competes with every figure and its baseline alike)",
        f"- filesystem of the data: {fs or '?'}; build: {args.build} ({build_type or '?'}), "
        f"commit {commit or '?'}",
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--benches", default="sdk-source,s3,snowflake")
    ap.add_argument("--start", default=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ap.add_argument("--start-load", default="?")
    ap.add_argument("--quick", default="0")
    args = ap.parse_args()

    t = Table()
    failed = []
    builders = {"sdk-source": sdk_source_rows, "s3": s3_rows, "snowflake": snowflake_rows}
    for b in args.benches.split(","):
        lines = read_log(os.path.join(args.logs, b + ".log"))
        builders[b](t, lines)
        try:
            with open(os.path.join(args.logs, b + ".status")) as f:
                if f.read().strip() != "0":
                    failed.append(b)
        except OSError:
            failed.append(b)

    out = ["# weir benchmark report", "", *machine_facts(args), "",
           "MB = 10^6 bytes, MiB = 2^20 bytes. Ratio = figure / baseline (how to read it: "
           "docs/performance.md).", "", t.markdown(), ""]
    if failed:
        out += [f"**bench/run-{b} failed** (see {os.path.join(args.logs, b + '.log')}).  "
                for b in failed] + [""]
    if t.missing:
        out += ["**Missing figures** in: " + "; ".join(t.missing) + ".", ""]
    text = "\n".join(out)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if (failed or t.missing) else 0


if __name__ == "__main__":
    sys.exit(main())
