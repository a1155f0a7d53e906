#!/usr/bin/python3
"""Turn bench/run's raw TSV into the markdown table and gnuplot charts.

Usage: report.py --raw RAW.tsv --out DIR --id ID [--meta TEXT]

Per proxy and scenario it takes the median over repetitions of req/s, CPU
per request, latency mean and bytes per idle connection, and the maximum of
peak RSS and latency max; errors are summed and any error flags the row.
Every figure is followed by its ratio to the best peer (the best of nghttpx,
h2o, HAProxy and nginx on that figure), so h2bridge's rows read directly
against the goals of issue 9. Writes DIR/table-ID.md (and prints it) and
DIR/{cpu,rps,idle-mem}.png through gnuplot. Standard library only.
"""
import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys

PROXIES = ["h2bridge", "h2bridge-base", "nghttpx", "h2o", "haproxy", "nginx"]
PEERS = ["nghttpx", "h2o", "haproxy", "nginx"]
SCENARIOS = {
    "small": "1 KiB GET, h2load -c100 -m10",
    "large": "1 MiB GET, h2load -c10 -m4",
    "upload": "1 MiB POST, h2load -c10 -m4 -d",
    "handshake": "a new TLS 1.3 connection per request, h2load -c50 -n50 -m1 in a loop",
    "idle": "idle TLS h2 connections held open (preface + SETTINGS, no request)",
}
# (column, heading, aggregate, higher_is_better, format)
LOAD_COLS = [
    ("req_per_s", "req/s", "median", True, "{:,.0f}"),
    ("cpu_us_per_req", "CPU µs/req", "median", False, "{:,.1f}"),
    ("peak_rss_kb", "peak RSS MiB", "max", False, "{:,.1f}"),
    ("lat_mean_us", "latency mean ms", "median", False, "{:,.2f}"),
    ("lat_max_us", "latency max ms", "max", False, "{:,.1f}"),
]
IDLE_COLS = [
    ("bytes_per_conn", "RSS KiB / idle conn", "median", False, "{:,.1f}"),
    ("cpu_us_per_req", "CPU µs / conn set-up", "median", False, "{:,.0f}"),
    ("peak_rss_kb", "peak RSS MiB", "max", False, "{:,.1f}"),
]
COLORS = {"h2bridge": "#d62728", "h2bridge-base": "#e7969c", "nghttpx": "#9467bd", "h2o": "#2ca02c",
          "haproxy": "#1f77b4", "nginx": "#ff7f0e"}
SCALE = {"peak_rss_kb": 1 / 1024, "lat_mean_us": 1e-3, "lat_max_us": 1e-3,
         "bytes_per_conn": 1 / 1024}
# issue 9's goals for h2bridge: (scenario, column, limit as ratio to best peer)
GOALS = [("small", "cpu_us_per_req", 0.7), ("large", "cpu_us_per_req", 0.6),
         ("handshake", "cpu_us_per_req", 0.8), ("idle", "bytes_per_conn", 0.5)]


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def aggregate(rows):
    """{(scenario, proxy): {"status", "reps", "errors", col: value}}"""
    groups = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["proxy"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        bad = [r["status"] for r in rs if r["status"] not in ("ok", "na")]
        agg = {"reps": len(ok), "bad": bad,
               "errors": sum(int(num(r["errors"]) or 0) for r in ok)}
        if not ok:
            agg["status"] = "na" if not bad else "error"
            out[key] = agg
            continue
        agg["status"] = "ok"
        for col, _, how, _, _ in LOAD_COLS + IDLE_COLS:
            vals = [v for v in (num(r[col]) for r in ok) if v is not None]
            if vals:
                agg[col] = statistics.median(vals) if how == "median" else max(vals)
        out[key] = agg
    return out


def best_peer(agg, sc, col, higher):
    vals = [agg[(sc, p)][col] for p in PEERS
            if (sc, p) in agg and agg[(sc, p)]["status"] == "ok" and col in agg[(sc, p)]]
    vals = [v for v in vals if v > 0]
    if not vals:
        return None
    return max(vals) if higher else min(vals)


def cell(a, sc, col, higher, fmt, agg):
    if col not in a:
        return "–"
    text = fmt.format(a[col] * SCALE.get(col, 1))
    best = best_peer(agg, sc, col, higher)
    if best:
        text += f" ({a[col] / best:.2f}×)"
    return text


def table(agg, sc, cols):
    present = [p for p in PROXIES if (sc, p) in agg]
    if not present:
        return []
    head = ["proxy"] + [c[1] for c in cols] + ["errors", "runs"]
    lines = [f"### {sc} — {SCENARIOS[sc]}", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in present:
        a = agg[(sc, p)]
        if a["status"] != "ok":
            what = "not available" if a["status"] == "na" else "failed: " + ",".join(a["bad"])
            lines.append(f"| {p} | " + " | ".join([what] + ["–"] * (len(cols) - 1))
                         + " | – | 0 |")
            continue
        flag = a["errors"] > 0 or a["bad"]
        name = f"**{p}** ⚠" if flag else p
        errs = str(a["errors"]) + (" + " + ",".join(a["bad"]) if a["bad"] else "")
        cells = [cell(a, sc, c[0], c[3], c[4], agg) for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {errs} | {a['reps']} |")
    return lines + [""]


def against_base(agg):
    """h2bridge against the baseline binary (H2B_BASE_BIN) of the same run."""
    lines = ["### h2bridge against its baseline binary (same run)", "",
             "| scenario | CPU µs/req h2bridge | CPU µs/req base | ratio | req/s ratio |",
             "|---|---|---|---|---|"]
    for sc in SCENARIOS:
        a, b = agg.get((sc, "h2bridge")), agg.get((sc, "h2bridge-base"))
        if not a or not b or a["status"] != "ok" or b["status"] != "ok":
            continue
        ca, cb = a.get("cpu_us_per_req"), b.get("cpu_us_per_req")
        ra, rb = a.get("req_per_s"), b.get("req_per_s")
        if not ca or not cb:
            continue
        rps = f"{ra / rb:.3f}×" if ra and rb else "–"
        lines.append(f"| {sc} | {ca:,.1f} | {cb:,.1f} | {ca / cb:.3f}× | {rps} |")
    return lines + [""]


def goals(agg):
    lines = ["### h2bridge against the goals of issue 9", "",
             "| goal | h2bridge / best peer | reached |", "|---|---|---|"]
    for sc, col, limit in GOALS:
        a = agg.get((sc, "h2bridge"))
        best = best_peer(agg, sc, col, False)
        what = {"cpu_us_per_req": "CPU per request" if sc != "handshake"
                else "CPU per handshake", "bytes_per_conn": "memory per idle connection"}[col]
        label = f"{what}, {sc} ≤ {limit}×"
        if not a or a["status"] != "ok" or col not in a or not best:
            lines.append(f"| {label} | not available | – |")
        else:
            r = a[col] / best
            lines.append(f"| {label} | {r:.2f}× | {'yes' if r <= limit else 'no'} |")
    return lines + [""]


def chart(out_dir, name, title, ylabel, series, proxies, ref_line=False):
    """series: [(label, {proxy: value})]; a clustered bar chart per label."""
    proxies = [p for p in proxies if any(v.get(p) is not None for _, v in series)]
    if not shutil.which("gnuplot") or not series or not proxies:
        return None
    dat = os.path.join(out_dir, name + ".dat")
    with open(dat, "w") as f:
        f.write("# label\t" + "\t".join(proxies) + "\n")
        for label, vals in series:
            f.write(label + "\t" + "\t".join(
                f"{vals[p]:.4g}" if vals.get(p) is not None else "?" for p in proxies) + "\n")
    png = os.path.join(out_dir, name + ".png")
    plots = ", ".join(f"'{dat}' using {i + 2}:xtic(1) title '{p}' lc rgb '{COLORS[p]}'"
                      for i, p in enumerate(proxies))
    script = f"""set terminal pngcairo size 900,480 noenhanced
set output '{png}'
set title '{title}'
set ylabel '{ylabel}'
set datafile missing '?'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside bottom center horizontal
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
set xrange [-0.5:{len(series) - 0.5}]
{"set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 front" if ref_line else ""}
plot {plots}
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print(f"report.py: gnuplot failed for {name}: {r.stderr.strip()}", file=sys.stderr)
        return None
    return png


def charts(agg, out_dir):
    proxies = [p for p in PROXIES if any(k[1] == p for k in agg)]
    ok = {k: a for k, a in agg.items() if a["status"] == "ok"}

    def ratios(col, higher, scs):
        series = []
        for sc in scs:
            best = best_peer(agg, sc, col, higher)
            if best:
                series.append((sc, {p: ok[(sc, p)][col] / best for p in proxies
                                    if (sc, p) in ok and col in ok[(sc, p)]}))
        return series

    made = [chart(out_dir, "cpu", "CPU per request (idle: per connection set-up), relative to the best peer; lower is better",
                  "× best peer", ratios("cpu_us_per_req", False, SCENARIOS), proxies, True),
            chart(out_dir, "rps", "Requests per second relative to the best peer; higher is better",
                  "× best peer", ratios("req_per_s", True, [s for s in SCENARIOS if s != "idle"]),
                  proxies, True)]
    idle = {p: ok[("idle", p)]["bytes_per_conn"] / 1024 for p in proxies
            if ("idle", p) in ok and "bytes_per_conn" in ok[("idle", p)]}
    if idle:
        made.append(chart(out_dir, "idle-mem", "RSS growth per idle TLS h2 connection; lower is better",
                          "KiB per connection", [("idle", idle)], proxies))
    return [m for m in made if m]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--meta", default="")
    args = ap.parse_args()
    with open(args.raw) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    agg = aggregate(rows)
    lines = [f"## Side-by-side benchmark, run {args.id}", ""]
    if args.meta:
        lines += [args.meta + ". Each cell: median over repetitions (max for peak RSS and"
                  " latency max), then its ratio to the best peer (nghttpx, h2o, HAProxy,"
                  " nginx) on that figure. ⚠ marks a row with errors.", ""]
    for sc in SCENARIOS:
        lines += table(agg, sc, IDLE_COLS if sc == "idle" else LOAD_COLS)
    if any(k[1] == "h2bridge" for k in agg):
        lines += goals(agg)
    if any(k[1] == "h2bridge-base" for k in agg):
        lines += against_base(agg)
    pngs = charts(agg, args.out)
    if pngs:
        lines += ["Charts: " + ", ".join(os.path.relpath(p, os.path.dirname(args.out) or ".")
                                         for p in pngs), ""]
    text = "\n".join(lines)
    with open(os.path.join(args.out, f"table-{args.id}.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
