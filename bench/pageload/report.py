#!/usr/bin/python3
"""bench/pageload/report.py — the page-load benchmark's table and chart.

    report.py --raw RAW.tsv --upload UPLOAD.tsv --out DIR --id ID [--meta TEXT]

Medians per path, page and proxy of first contentful paint, largest
contentful paint and load time (ms), each with its ratio to the best peer
(nghttpx, h2o, HAProxy, nginx: lower is better, so h2bridge at 0.90x is
10 % faster than the best of them); upload throughput in Mbit/s and as a
share of the path's rate. Writes DIR/pageload-ID.md (also printed) and
DIR/pageload-lcp.png (gnuplot, when installed). Standard library only."""
import argparse
import csv
import math
import os
import shutil
import statistics
import subprocess
from collections import defaultdict

# h2bridge-base: the same proxy with another binary or configuration
# (bench/pageload/run, H2B_BASE_BIN / --h2b-config); not a peer.
PROXIES = ["h2bridge", "h2bridge-base", "nghttpx", "h2o", "haproxy", "nginx"]
PEERS = PROXIES[2:]
RATE = {"40ms-20mbit": 20.0, "150ms-5mbit": 5.0}


def num(v):
    try:
        f = float(v)
        return None if math.isnan(f) else f
    except (TypeError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--upload", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--meta", default="")
    a = ap.parse_args()

    loads = defaultdict(lambda: defaultdict(list))
    protos = defaultdict(set)
    with open(a.raw) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            key = (r["path"], r["page"], r["proxy"])
            for m in ("fcp_ms", "lcp_ms", "load_ms"):
                v = num(r[m])
                if v is not None:
                    loads[key][m].append(v)
            protos[key].add(r["proto"])
    lines = ["# Page loads over an emulated WAN (%s)" % a.id, "", a.meta, "",
             "Medians of the loads; each figure's ratio is to the best peer on it "
             "(lower is better). `proto` is what Chromium negotiated.", ""]
    med = {}
    paths = sorted({k[0] for k in loads}, key=lambda p: list(RATE).index(p) if p in RATE else 9)
    for path in paths:
        for page in ("blocking", "slow"):
            rows = [p for p in PROXIES if (path, page, p) in loads]
            if not rows:
                continue
            lines += ["## %s, page `%s`" % (path, page), "",
                      "| proxy | loads | FCP ms | LCP ms | load ms | proto |", "|---|---|---|---|---|---|"]
            best = {}
            for m in ("fcp_ms", "lcp_ms", "load_ms"):
                vals = [statistics.median(loads[(path, page, p)][m]) for p in PEERS
                        if loads[(path, page, p)][m]]
                best[m] = min(vals) if vals else None
            for p in rows:
                d = loads[(path, page, p)]
                cells = []
                for m in ("fcp_ms", "lcp_ms", "load_ms"):
                    if not d[m]:
                        cells.append("n/a")
                        continue
                    v = statistics.median(d[m])
                    med[(path, page, p, m)] = v
                    ratio = " (%.2f×)" % (v / best[m]) if best[m] else ""
                    cells.append("{:,.0f}{}".format(v, ratio))
                lines.append("| %s | %d | %s | %s |" % (p, len(d["load_ms"]), " | ".join(cells),
                                                        ",".join(sorted(protos[(path, page, p)]))))
            lines.append("")
    ups = defaultdict(list)
    hwm = defaultdict(float)
    with open(a.upload) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            s = num(r["seconds"])
            if s and r["status"] == "200":
                ups[(r["path"], r["proxy"], r["client"])].append(float(r["mib"]) * 8 * 1.048576 / s)
            h = num(r.get("hwm_kb"))
            if h:
                hwm[(r["path"], r["proxy"])] = max(hwm[(r["path"], r["proxy"])], h / 1024)
    order = list(RATE)
    paths = sorted(set(paths) | {k[0] for k in ups},
                   key=lambda p: order.index(p) if p in order else 9)
    if ups:
        lines += ["## Upload (one POST over h2): Mbit/s and share of the path's rate", "",
                  "Peak RSS is the proxy's process tree (VmHWM) after the uploads, the page "
                  "loads before them included.", "",
                  "| path | proxy | curl | chromium fetch | peak RSS MiB |", "|---|---|---|---|---|"]
        for path in paths:
            for p in PROXIES:
                cells = []
                for c in ("curl", "chromium"):
                    v = ups.get((path, p, c))
                    cells.append("n/a" if not v else "%.2f (%.0f %%)" % (
                        statistics.median(v), 100 * statistics.median(v) / RATE.get(path, 1)))
                if cells != ["n/a", "n/a"]:
                    rss = hwm.get((path, p))
                    lines.append("| %s | %s | %s | %s |" % (path, p, " | ".join(cells),
                                                           "%.1f" % rss if rss else "n/a"))
        lines.append("")
    text = "\n".join(lines)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "pageload-%s.md" % a.id), "w") as f:
        f.write(text + "\n")
    print(text)

    if shutil.which("gnuplot") and med:
        groups = [(path, page) for path in paths for page in ("blocking", "slow")
                  if any((path, page, p, "lcp_ms") in med for p in PROXIES)]
        dat = os.path.join(a.out, "pageload-lcp-%s.dat" % a.id)
        with open(dat, "w") as f:
            f.write("group " + " ".join(PROXIES) + "\n")
            for path, page in groups:
                f.write("%s/%s " % (path, page) + " ".join(
                    "%.0f" % med.get((path, page, p, "lcp_ms"), float("nan")) for p in PROXIES) + "\n")
        cols = [i + 2 for i, p in enumerate(PROXIES)
                if any((path, page, p, "lcp_ms") in med for path, page in groups)]
        png = os.path.join(a.out, "pageload-lcp.png")
        script = ("set terminal pngcairo size 900,420 font ',10'\nset output '%s'\n"
                  "set title 'Largest contentful paint, median (ms, lower is better)'\n"
                  "set style data histograms\nset style histogram clustered gap 1\n"
                  "set style fill solid 0.8 border -1\nset key outside right\nset yrange [0:*]\n"
                  "set grid ytics\nplot for [i in '%s'] '%s' using int(i):xtic(1) title columnhead(int(i))\n"
                  % (png, " ".join(map(str, cols)), dat))
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if r.returncode:
            print("(gnuplot: %s)" % r.stderr.strip())
        os.unlink(dat)


if __name__ == "__main__":
    main()
