#!/usr/bin/python3
"""Run h2load against a proxy and measure the proxy, for bench/run.

Usage: measure.py --pid PID [--warm-up S] [--loop S] [--log FILE] -- h2load ARGS...

Samples the proxy's process tree (proctree.py: CPU of every process and
thread, peak RSS) before and after running the command, parses h2load's
summary and prints one tab-separated line:

  requests seconds req_per_s cpu_us_per_req peak_rss_kb lat_mean_us lat_max_us errors

With --warm-up S (pass h2load the same --warm-up-time) the CPU "before"
sample is taken S seconds after h2load starts, so connection set-up and
warm-up are left out of CPU per request, as they are of h2load's counts.
With --loop S the command is run again and again until S seconds have
passed (the handshake scenario: each run opens fresh connections that make
one request each); the figures are summed over the runs, seconds being the
sum of each run's requests / req/s. errors counts every request that did
not end with a 2xx: failed, errored, timed out, 3xx/4xx/5xx, and any
started but not done outside timing-based (-D) runs. A run whose h2load
exits non-zero, prints no summary, or negotiates another ALPN protocol than
h2 or another cipher suite than TLS_AES_128_GCM_SHA256 (see --expect) is an
error of its own.
"""
import argparse
import re
import subprocess
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import proctree  # noqa: E402

UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6}
RE_FINISHED = re.compile(r"^finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s")
RE_REQUESTS = re.compile(
    r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
    r"(\d+) failed, (\d+) errored, (\d+) timeout")
RE_STATUS = re.compile(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
RE_NEGOTIATED = re.compile(r"^(Application protocol|Cipher): (\S+)")
RE_TIME = re.compile(r"^time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)"
                     r"\s+([\d.]+)(us|ms|s)")


class Summary:
    def __init__(self):
        self.runs = self.done = self.errors = 0
        self.secs = self.lat_sum_us = self.lat_max_us = 0.0


def parse(text, timed, acc, expect):
    """Adds one h2load output to acc; returns False if it has no summary or
    negotiated something other than expect (ALPN protocol, cipher suite)."""
    got = {}
    for line in text.splitlines():
        line = line.strip()
        if m := RE_NEGOTIATED.match(line):
            if m[2] not in expect:
                return False
        elif m := RE_FINISHED.match(line):
            # With --warm-up-time "finished in" includes the warm-up while
            # the counts and req/s cover the main duration only.
            got["secs"] = float(m[1]) * UNIT_US[m[2]] / 1e6
            got["rps"] = float(m[3])
        elif m := RE_REQUESTS.match(line):
            got["req"] = [int(x) for x in m.groups()]
        elif m := RE_STATUS.match(line):
            got["status"] = [int(x) for x in m.groups()]
        elif m := RE_TIME.match(line):
            got["lat_max"] = float(m[3]) * UNIT_US[m[4]]
            got["lat_mean"] = float(m[5]) * UNIT_US[m[6]]
    if len(got) < 5:
        return False
    total, started, done, _ok, failed, errored, timeout = got["req"]
    acc.runs += 1
    acc.done += done
    acc.secs += done / got["rps"] if got["rps"] > 0 else got["secs"]
    # 'failed' counts bad statuses, 'errored' resets and broken connections.
    # (done - 2xx is no measure: a response whose headers came during the
    # warm-up is done later but has no status counted.)
    acc.errors += max(failed, sum(got["status"][1:])) + errored + timeout
    if not timed:
        acc.errors += total - done
    acc.lat_sum_us += got["lat_mean"] * done
    acc.lat_max_us = max(acc.lat_max_us, got["lat_max"])
    return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--loop", type=float, default=0.0)
    p.add_argument("--warm-up", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=60.0,
                   help="kill an h2load run that takes longer (a stalled proxy)")
    p.add_argument("--log", help="append every h2load output here")
    p.add_argument("--expect", action="append", default=["h2", "TLS_AES_128_GCM_SHA256"],
                   help="an acceptable ALPN protocol or cipher suite (a run that "
                        "negotiates anything else is an error)")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        p.error("no command")
    timed = any(a in ("-D", "--duration") or a.startswith(("-D", "--duration="))
                for a in cmd)
    log = open(args.log, "a") if args.log else None
    pids = proctree.tree_pids(args.pid)
    cpu0 = proctree.cpu_us(pids)
    acc, bad_runs = Summary(), 0
    deadline = time.monotonic() + args.loop
    while True:
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, errors="replace")
        if args.warm_up > 0:
            time.sleep(args.warm_up + 0.05)
            cpu0 = proctree.cpu_us(proctree.tree_pids(args.pid))
        try:
            out, _ = child.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            out, _ = child.communicate()
            out += f"\nmeasure.py: killed after {args.timeout:g} s\n"
            child.returncode = -9
        r = subprocess.CompletedProcess(cmd, child.returncode, out)
        if log:
            log.write(f"$ {' '.join(cmd)}\n{r.stdout}\n[exit {r.returncode}]\n")
        if not parse(r.stdout, timed, acc, set(args.expect)) or r.returncode != 0:
            bad_runs += 1
        if time.monotonic() >= deadline or bad_runs > 3:
            break
    pids = proctree.tree_pids(args.pid)
    cpu1, hwm = proctree.cpu_us(pids), proctree.hwm_kb(pids)
    errors = acc.errors + bad_runs
    rps = acc.done / acc.secs if acc.secs else 0.0
    cpu_per = (cpu1 - cpu0) / acc.done if acc.done else 0.0
    lat_mean = acc.lat_sum_us / acc.done if acc.done else 0.0
    print(f"{acc.done}\t{acc.secs:.3f}\t{rps:.1f}\t{cpu_per:.2f}\t{hwm}\t"
          f"{lat_mean:.0f}\t{acc.lat_max_us:.0f}\t{errors}")


if __name__ == "__main__":
    main()
