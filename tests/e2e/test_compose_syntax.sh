#!/usr/bin/env bash
# tests/e2e/test_compose_syntax.sh — the Dockerfile and docker-compose.yml are
# shipped but not run here (no Docker engine): check them statically.
# Dockerfile: two stages, the first builds from debian:12 with
# scripts/deps.sh build; the final one copies only the binaries out of the
# build stage, installs only runtime libraries, and runs h2bridge (the
# proxy, not the origin) as a non-root USER; every COPY source exists.
# docker-compose.yml: parses, its services use the image the Dockerfile
# builds, the proxy's configuration file exists in the mounted folder and
# passes `h2bridge -t`.
# env: H2B_SOURCE_DIR (the repository root; defaults to this file's ../..), H2B_BIN.
set -u
src=${H2B_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec /usr/bin/python3 - "$src" "${H2B_BIN:-}" <<'EOF2'
import json, os, re, subprocess, sys

src, binary = sys.argv[1], sys.argv[2]
fails = 0

def check(name, cond, detail=""):
    global fails
    print(("PASS " if cond else "FAIL ") + name + ("" if cond or not detail else ": " + str(detail)))
    fails += 0 if cond else 1

try:
    import yaml
except ImportError:
    print("FAIL python3-yaml is not installed (scripts/deps.sh test installs it)")
    sys.exit(1)

# ---- Dockerfile: instructions (continuations joined), by stage.
dpath = os.path.join(src, "Dockerfile")
text = open(dpath).read()
lines, cur = [], ""
for raw in text.splitlines():
    s = raw.strip()
    if not s or s.startswith("#"):
        continue
    cur += (" " if cur else "") + s.rstrip("\\").strip()
    if not s.endswith("\\"):
        lines.append(cur)
        cur = ""
stages = []
for l in lines:
    op = l.split()[0].upper()
    if op == "FROM":
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", l, re.I)
        stages.append({"from": m.group(1), "name": m.group(2), "ins": []})
    elif stages:
        stages[-1]["ins"].append((op, l[len(op):].strip()))
check("Dockerfile has two stages (build, runtime)", len(stages) == 2, [s["from"] for s in stages])
if len(stages) >= 2:
    b, r = stages[0], stages[-1]
    check("the build stage is FROM debian:12", b["from"] == "debian:12", b["from"])
    check("the build stage installs with scripts/deps.sh build",
          any(op == "RUN" and "scripts/deps.sh build" in a for op, a in b["ins"]))
    check("the runtime stage is Debian 12", r["from"].startswith("debian:12"), r["from"])
    copies = [a for op, a in r["ins"] if op in ("COPY", "ADD")]
    check("the runtime stage copies only from the build stage",
          copies and all(a.startswith("--from=%s " % b["name"]) for a in copies), copies)
    copied = [p for a in copies for p in a.split()[1:-1]]
    check("... and only the three binaries",
          sorted(os.path.basename(p) for p in copied) ==
          ["h2bridge", "h2bridge-origin", "h2bridge-ticketkeys"], copied)
    runs = " ".join(a for op, a in r["ins"] if op == "RUN")
    pk = re.findall(r"install -y --no-install-recommends ([^&]+)", runs)
    check("the runtime stage installs only the libraries the binaries link",
          pk and sorted(pk[0].split()) ==
          ["android-libboringssl", "libc-ares2", "libevent-core-2.1-7", "libyaml-0-2"], pk)
    # The packages of the libraries the built binaries link (ldd + dpkg -S)
    # must be installed there (libc6, libgcc-s1, libstdc++6 are in the base).
    # Only a release build links what the image's (release) build does.
    bdir = os.environ.get("H2B_BUILD_DIR", "")
    if os.environ.get("H2B_SANITIZE", "0") in ("1", "ON", "TRUE", "true"):
        bdir = ""
    need = set()
    for rel in ("proxy/h2bridge", "tools/ticketkeys/h2bridge-ticketkeys",
                "tools/origin/h2bridge-origin"):
        exe = os.path.join(bdir, rel)
        if not bdir or not os.access(exe, os.X_OK):
            continue
        for l in subprocess.run(["ldd", exe], capture_output=True, text=True).stdout.splitlines():
            m2 = re.search(r"=> (/\S+)", l)
            if not m2:
                continue
            q = subprocess.run(["dpkg", "-S", os.path.realpath(m2.group(1))],
                               capture_output=True, text=True).stdout
            if q:
                need.add(q.split(":")[0])
    need -= {"libc6", "libgcc-s1", "libstdc++6"}
    if need:
        check("the runtime stage installs every library package the binaries link",
              pk and need <= set(pk[0].split()), sorted(need))
    users = [a for op, a in r["ins"] if op == "USER"]
    u = users[-1].split(":")[0] if users else "root"
    check("the image runs as a non-root USER", u not in ("root", "0") and u != "", users)
    ep = [a for op, a in r["ins"] if op == "ENTRYPOINT"]
    try:
        ep = json.loads(ep[-1]) if ep else []
    except ValueError:
        ep = ["(not exec form)"]
    check("the image runs the proxy (ENTRYPOINT h2bridge)", ep == ["h2bridge"], ep)
for st in stages:
    for op, a in st["ins"]:
        if op == "COPY" and not a.startswith("--from=") and not a.startswith(". "):
            p = a.split()[0]
            check("COPY source %s exists" % p, os.path.exists(os.path.join(src, p)))
m = re.search(r"install -m 0755 (.*?) /out/", text.replace("\\\n", " "), re.S)
built = m.group(1).split() if m else []
for p in built:
    d = os.path.dirname(p).replace("/build/", "", 1)
    check("the build stage's %s is a CMake target in %s" % (os.path.basename(p), d),
          os.path.isfile(os.path.join(src, d, "CMakeLists.txt")) and
          os.path.basename(p) in open(os.path.join(src, d, "CMakeLists.txt")).read())

# ---- docker-compose.yml
path = os.path.join(src, "docker-compose.yml")
try:
    with open(path) as f:
        doc = yaml.safe_load(f)
    check("docker-compose.yml parses as YAML", isinstance(doc, dict), type(doc))
except Exception as e:  # a parse error names line and column
    check("docker-compose.yml parses as YAML", False, e)
    sys.exit(1)
svcs = doc.get("services") or {}
check("services: proxy, origin, memcached, ticketkeys",
      sorted(svcs) == ["memcached", "origin", "proxy", "ticketkeys"], sorted(svcs))
proxy = svcs.get("proxy") or {}
check("the proxy is built from the Dockerfile at the root", proxy.get("build") in (".", {"context": "."}),
      proxy.get("build"))
img = proxy.get("image")
for name in ("origin", "ticketkeys"):
    check("%s uses the proxy's image" % name, (svcs.get(name) or {}).get("image") == img != None)
check("origin runs h2bridge-origin", (svcs.get("origin") or {}).get("entrypoint") == ["h2bridge-origin"])
check("ticketkeys runs h2bridge-ticketkeys rotate",
      (svcs.get("ticketkeys") or {}).get("entrypoint") == ["h2bridge-ticketkeys"] and
      "rotate" in (svcs.get("ticketkeys") or {}).get("command", []))
check("the proxy keeps the image's entrypoint (h2bridge)", "entrypoint" not in proxy)
cmd = proxy.get("command", [])
cfg = cmd[cmd.index("-c") + 1] if "-c" in cmd else None
mounts = {v.split(":")[1]: v.split(":")[0] for v in proxy.get("volumes", []) if ":" in v}
host_cfg = None
for inside, outside in mounts.items():
    if cfg and cfg.startswith(inside.rstrip("/") + "/"):
        host_cfg = os.path.normpath(os.path.join(src, outside, cfg[len(inside.rstrip("/")) + 1:]))
check("the proxy's -c file is in a mounted folder of the repository",
      host_cfg and os.path.isfile(host_cfg), (cfg, mounts))
if host_cfg and os.path.isfile(host_cfg) and binary and os.access(binary, os.X_OK):
    r = subprocess.run([binary, "-t", "-c", host_cfg], capture_output=True, text=True, timeout=30)
    check("%s passes h2bridge -t" % os.path.relpath(host_cfg, src), r.returncode == 0,
          r.stdout + r.stderr)
    text = open(host_cfg).read()
    check("its memcached is the compose service", '"memcached:11211"' in text)
    check("its upstream is the origin service", '"origin:8081"' in text)
ports = [str(p) for p in proxy.get("ports", [])]
check("ports 8443 and 9901 are published", "8443:8443" in ports and "9901:9901" in ports, ports)
print("test_compose_syntax: %s" % ("ok" if fails == 0 else "%d failed" % fails))
sys.exit(1 if fails else 0)
EOF2
