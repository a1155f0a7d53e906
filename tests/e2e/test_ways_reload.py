"""e2e (issue 8, reload): SIGHUP re-reads the -c file. A valid new file is
used by new connections while an open connection keeps its old generation;
an invalid file keeps the running configuration and the log says why; two
reloads during an h2load run cause 0 failed requests; SIGTERM then exits 0.
Every wait is bounded; only the processes started here are stopped.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
if subprocess.run(["sh", "-c", "command -v h2load"], stdout=subprocess.DEVNULL).returncode != 0:
    pl.skip("h2load not installed")
env = pl.Env()
ck = pl.Checker()


def write_config(path, port, origin_port, extra=""):
    with open(path, "w") as f:
        f.write("listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "upstreams:\n"
                "  u: {servers: [\"127.0.0.1:%d\"]}\n"
                "routes:\n"
                "  - {upstream: u}\n%s" % (port, env.cert, env.key, origin_port, extra))


def served_by(port):
    c = pl.H2Client(port, timeout=10)
    r = c.request("GET", "/bytes/10")
    c.close()
    return r.header("x-origin-id")


try:
    o1 = env.origin("o1")
    o2 = env.origin("o2")
    port = pl.free_port()
    path = os.path.join(env.dir, "h2bridge.yaml")
    write_config(path, port, o1.port)
    p = env.spawn([pl.BIN, "-c", path], "proxy")
    pl.wait_port(port, p, timeout=20)
    ck.eq(served_by(port), "o1", "before the reload")
    old = pl.H2Client(port, timeout=10)
    ck.eq(old.request("GET", "/bytes/1").header("x-origin-id"), "o1", "old connection")

    load = subprocess.Popen(["h2load", "-D", "5", "-c", "4", "-m", "10", "-T", "20",
                             "https://127.0.0.1:%d/bytes/2000" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(1.0)
    write_config(path, port, o2.port)
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    ck.eq(served_by(port), "o2", "a new connection after the reload")
    r = old.request("GET", "/bytes/1")
    ck.eq(r.header("x-origin-id"), "o1", "the open connection keeps its generation")
    ck.eq(bytes(r.body), pl.pattern(1), "old connection body")

    with open(path, "a") as f:
        f.write("upstreams_typo: 1\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    log = env.log(p)
    ck.check(re.search(r"reload: .*h2bridge\.yaml:\d+:\d+: expected", log) is not None,
             "the invalid file's error is logged with its position")
    ck.check("configuration refused" in log, "the refusal is logged")
    ck.eq(served_by(port), "o2", "still the running configuration after a bad file")

    write_config(path, port, o1.port)
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    ck.eq(served_by(port), "o1", "a second reload")

    out = load.communicate(timeout=60)[0].decode("utf-8", "replace")
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored", out)
    ck.check(m is not None and int(m.group(4)) > 1000 and m.group(5) == "0" and m.group(6) == "0",
             "h2load across two reloads: 0 failed: %s" % (m.group(0) if m else out[-400:]))
    ck.check(re.search(r"status codes: \d+ 2xx, 0 3xx, 0 4xx, 0 5xx", out) is not None,
             "h2load: only 2xx")
    print(m.group(0) if m else out[-400:], flush=True)
    old.close()
    end = time.time() + 5
    while "generation 1 finished" not in env.log(p) and time.time() < end:
        time.sleep(0.1)
    env.stop(p)
    ck.eq(p.returncode, 0, "exit status after SIGTERM")
    log = env.log(p)
    ck.check("generation 1 finished" in log, "the first generation was freed once its "
             "connections ended")
finally:
    env.close(keep=ck.failed > 0)
    if ck.failed:
        print("logs kept in", env.dir)
ck.finish()
