"""scripts/run, README's demo command, stopped the way a terminal stops it.

The script runs in a process group of its own, as a shell runs a foreground
job, and SIGINT goes to that whole group, as Ctrl-C does. One SIGINT: a
/delay/2000 request in flight still gets its 200, then h2bridge and the
origin exit (the origin only after h2bridge has drained) and the script
exits 0. A second SIGINT during the drain: everything exits at once and the
request in flight is cut. The real script runs, on free ports, with the
binaries of this build (H2B_DEMO_BUILD_DIR: it does not build)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

SRC = os.environ.get("H2B_SOURCE_DIR", "")
BUILD = os.environ.get("H2B_BUILD_DIR", "")
pl.require_binaries()
if not shutil.which("curl"):
    pl.skip("curl not installed")


def terminal_job():
    # What a shell does for a foreground job: a process group of its own,
    # and SIGINT/SIGQUIT at their defaults (a background ctest may have
    # them ignored, and an ignored signal cannot be trapped by bash).
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def children(pid):
    """PID -> comm of the processes whose parent is pid."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            out[int(d)] = comm
    return out


def gone(pid):
    try:
        st = open("/proc/%d/stat" % pid).read()
    except OSError:
        return True
    return st[st.rindex(")") + 2] == "Z"


class Demo:
    def __init__(self):
        self.state = tempfile.mkdtemp(prefix="h2b-demo-")
        self.port = pl.free_port()
        self.oport = pl.free_port()
        env = dict(os.environ, H2B_DEMO_PORT=str(self.port), H2B_ORIGIN_PORT=str(self.oport),
                   H2B_DEMO_BUILD_DIR=BUILD, H2B_DEMO_STATE_DIR=self.state)
        self.p = subprocess.Popen(["bash", os.path.join(SRC, "scripts", "run")], env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, preexec_fn=terminal_job)
        self.lines = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise RuntimeError("scripts/run did not start serving:\n" + self.text())
        self.kids = {}
        deadline = time.time() + 5
        while time.time() < deadline and sorted(self.kids.values()) != ["h2bridge", "h2bridge-origin"]:
            self.kids = {k: v for k, v in children(self.p.pid).items()
                         if v in ("h2bridge", "h2bridge-origin")}
            time.sleep(0.05)

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            if "h2bridge is serving" in line:
                self.ready.set()

    def text(self):
        return "\n".join(self.lines)

    def ctrl_c(self):
        os.killpg(self.p.pid, signal.SIGINT)

    def kill(self):
        for pid in list(getattr(self, "kids", {})) + [self.p.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.p.wait(10)
        shutil.rmtree(self.state, ignore_errors=True)


def delayed_request(port, ms):
    return subprocess.Popen(["curl", "-k", "--http2", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                             "--max-time", "30", "https://127.0.0.1:%d/delay/%d" % (port, ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def index_of(lines, text):
    return next((i for i, ln in enumerate(lines) if text in ln), -1)


t = pl.Checker()

# 1. One Ctrl-C: the request in flight finishes, then both exit.
d = Demo()
try:
    t.eq(sorted(d.kids.values()), ["h2bridge", "h2bridge-origin"], "scripts/run started proxy and origin")
    c = delayed_request(d.port, 2000)
    time.sleep(0.7)  # the request is at the origin (2 s before its answer)
    t0 = time.time()
    d.ctrl_c()
    out, err = c.communicate(timeout=30)
    t.eq((c.returncode, out.decode()), (0, "200"),
         "one Ctrl-C: the /delay/2000 request in flight completes (curl: %s)" % err.decode().strip())
    t.check(time.time() - t0 > 0.8, "the request was still in flight at the Ctrl-C")
    rc = d.p.wait(30)
    t.eq(rc, 0, "scripts/run exits 0 after one Ctrl-C")
    t.check(all(gone(pid) for pid in d.kids), "h2bridge and the origin have exited: %s"
            % {pid: name for pid, name in d.kids.items() if not gone(pid)})
    lines = d.lines
    t.check(index_of(lines, "second signal") < 0, "no second signal reached the proxy")
    t.check(lines[-1:] == ["stopped."], "the script says it stopped")
    if t.failed:
        print(d.text())
finally:
    d.kill()

# 2. A second Ctrl-C during the drain stops everything at once.
d = Demo()
try:
    c = delayed_request(d.port, 8000)  # under the demo's shutdown_timeout (10 s)
    time.sleep(0.7)
    d.ctrl_c()
    time.sleep(0.5)
    t.check(d.p.poll() is None, "after one Ctrl-C the demo is still draining the 8 s request")
    t0 = time.time()
    d.ctrl_c()
    try:
        d.p.wait(5)
    except subprocess.TimeoutExpired:
        pass
    took = time.time() - t0
    t.check(d.p.poll() is not None and took < 3, "a second Ctrl-C: scripts/run exits at once (%.1f s)" % took)
    time.sleep(0.2)
    t.check(all(gone(pid) for pid in d.kids), "a second Ctrl-C: h2bridge and the origin have exited")
    out, err = c.communicate(timeout=30)
    t.check(c.returncode != 0, "a second Ctrl-C cuts the request in flight (curl %d %s)"
            % (c.returncode, out.decode()))
    if t.failed:
        print(d.text())
finally:
    d.kill()

t.finish()
