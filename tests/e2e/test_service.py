"""e2e: running h2bridge as a service.

- Readiness (sd_notify, no libsystemd): with NOTIFY_SOCKET set, READY=1
  comes once the listener accepts; a SIGHUP sends RELOADING=1 with
  MONOTONIC_USEC, then READY=1; SIGTERM sends STOPPING=1.
- deploy/systemd/h2bridge.service passes `systemd-analyze verify` (with
  its paths pointed at this build).
- As root: `user: nobody` makes every thread run as nobody after binding,
  and requests are served; a certificate only root can read was loaded
  before the drop, so a reload (which re-reads it as nobody) is refused
  and logged while the old configuration keeps serving. `--user` does the
  same from the command line.
- As root without user:, a configuration file others can write is refused;
  an unknown user is reported at its file:line:column.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_cfg(env, name, body, mode=0o644):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, mode)
    return path


def base_cfg(port, origin, env, cert=None, key=None):
    return ("listeners:\n  - address: \"127.0.0.1:%d\"\n"
            "    tls: {certificates: [{cert: %s, key: %s}]}\n"
            "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
            "routes: [{upstream: app}]\n"
            % (port, cert or env.cert, key or env.key, origin.port))


def notify(env, origin, c):
    sock_path = os.path.join(env.dir, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(sock_path)
    ns.settimeout(10)
    port = pl.free_port()
    cfg = write_cfg(env, "notify.yaml", base_cfg(port, origin, env))
    p = env.spawn([pl.BIN, "-c", cfg], "proxy-notify", {"NOTIFY_SOCKET": sock_path})
    msg = ns.recv(4096).decode()
    c.eq(msg, "READY=1", "the first notification")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        listening = True
    except OSError:
        listening = False
    c.check(listening, "READY=1 came when the listener already accepted")
    p.send_signal(signal.SIGHUP)
    msg = ns.recv(4096).decode()
    c.check(re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=\d+", msg) is not None,
            "SIGHUP: RELOADING=1 with MONOTONIC_USEC: %r" % msg)
    c.eq(ns.recv(4096).decode(), "READY=1", "after the reload: READY=1")
    p.send_signal(signal.SIGTERM)
    c.eq(ns.recv(4096).decode(), "STOPPING=1", "SIGTERM: STOPPING=1")
    p.wait(15)
    c.eq(p.returncode, 0, "exit status after SIGTERM")
    ns.close()


def unit_verify(env, c):
    if not shutil.which("systemd-analyze"):
        print("SKIP: systemd-analyze not installed")
        return
    tool = os.path.join(os.environ.get("H2B_BUILD_DIR", ""), "tools", "ticketkeys",
                        "h2bridge-ticketkeys")
    d = tempfile.mkdtemp(prefix="unit-", dir=env.dir)
    # The ticket key rotation's service and timer are verified beside it.
    for name in ("h2bridge.service", "h2bridge-ticketkeys.service",
                 "h2bridge-ticketkeys.timer"):
        unit = open(os.path.join(SRC, "deploy/systemd", name)).read()
        unit = unit.replace("/usr/local/bin/h2bridge-ticketkeys", tool)
        unit = unit.replace("/usr/local/bin/h2bridge ", pl.BIN + " ")
        with open(os.path.join(d, name), "w") as f:
            f.write(unit)
    for name in ("h2bridge.service", "h2bridge-ticketkeys.service", "h2bridge-ticketkeys.timer"):
        path = os.path.join(d, name)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True,
                           text=True, timeout=60)
        out = (r.stdout + r.stderr).strip()
        # Lines about the host's own units (no systemd running in a container)
        # are not the unit's; anything naming ours is.
        ours = [ln for ln in out.splitlines() if "h2bridge" in ln and ".service" in ln or
                "h2bridge-ticketkeys.timer" in ln]
        c.check(r.returncode == 0 and not ours,
                "systemd-analyze verify %s: rc %d, %s"
                % (name, r.returncode, "\n".join(ours) or out[-400:]))


def uids_of(pid):
    uids = set()
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, t)) as f:
            for ln in f:
                if ln.startswith("Uid:"):
                    uids.update(int(x) for x in ln.split()[1:])
    return uids


def privdrop(env, origin, c):
    nobody = 65534
    # As /etc/h2bridge would be: the directory and the configuration
    # readable by all, the certificate too, the key by root only.
    os.chmod(env.dir, 0o711)
    etc = os.path.join(env.dir, "etc")
    os.mkdir(etc, 0o755)
    cert, key = os.path.join(etc, "site.crt"), os.path.join(etc, "root-only.key")
    shutil.copy(env.cert, cert)
    shutil.copy(env.key, key)
    os.chmod(cert, 0o644)
    os.chmod(key, 0o600)
    port = pl.free_port()
    cfg = write_cfg(env, "etc/drop.yaml",
                    base_cfg(port, origin, env, cert=cert, key=key) + "user: nobody\n")
    p = env.spawn([pl.BIN, "-c", cfg], "proxy-drop")
    pl.wait_port(port, p, 20)
    time.sleep(0.3)
    c.eq(uids_of(p.pid), {nobody}, "user: nobody: every thread's real, effective, saved uid")
    cl = pl.H2Client(port, timeout=10)
    c.eq(cl.request("GET", "/bytes/4", deadline=10).status, 200, "served after the drop")
    p.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    log = env.log(p)
    c.check("running as user nobody (uid 65534" in log, "the drop is logged")
    c.check(re.search(r"reload: .*root-only.key.*Permission denied", log) is not None and
            "configuration refused, generation 1 keeps running" in log,
            "a reload as nobody cannot read the root-only key: refused and logged")
    c.eq(cl.request("GET", "/bytes/4", deadline=10).status, 200, "the old configuration serves")
    cl.close()
    env.stop(p)
    port = pl.free_port()
    cfg = write_cfg(env, "flag.yaml", base_cfg(port, origin, env))
    p = env.spawn([pl.BIN, "-c", cfg, "--user", "nobody"], "proxy-flag")
    pl.wait_port(port, p, 20)
    time.sleep(0.3)
    c.eq(uids_of(p.pid), {nobody}, "--user nobody")
    env.stop(p)


def refusals(env, origin, c):
    port = pl.free_port()
    cfg = write_cfg(env, "open.yaml", base_cfg(port, origin, env), mode=0o666)
    p = env.spawn([pl.BIN, "-c", cfg], "proxy-open")
    p.wait(10)
    c.eq(p.returncode, 1, "a world-writable configuration as root: exit 1")
    c.check("refusing to run as root: %s can be changed by others" % cfg in env.log(p),
            "and why: %r" % env.log(p)[-300:])
    cfg = write_cfg(env, "nouser.yaml", base_cfg(port, origin, env) + "user: no-such-user-h2b\n")
    p = env.spawn([pl.BIN, "-c", cfg], "proxy-nouser")
    p.wait(10)
    c.eq(p.returncode, 1, "an unknown user: exit 1")
    c.check("nouser.yaml:6:7: user: no user 'no-such-user-h2b'" in env.log(p),
            "at file:line:column: %r" % env.log(p)[-300:])


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        notify(env, origin, c)
        unit_verify(env, c)
        if os.geteuid() == 0:
            privdrop(env, origin, c)
            refusals(env, origin, c)
        else:
            print("SKIP: privilege drop and root checks need root")
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
