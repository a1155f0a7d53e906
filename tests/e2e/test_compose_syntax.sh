#!/usr/bin/env bash
# tests/e2e/test_compose_syntax.sh — docker-compose.yml and the Dockerfile are
# shipped but not run here (no Docker engine): check that the compose file is
# valid YAML with the expected services and wiring, and that the Dockerfile
# exists, builds from debian:12 and refers only to files that exist.
# env: H2B_SOURCE_DIR (the repository root; defaults to this file's ../..).
set -u
src=${H2B_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec /usr/bin/python3 - "$src" <<'EOF'
import os, sys

src = sys.argv[1]
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

path = os.path.join(src, "docker-compose.yml")
try:
    with open(path) as f:
        doc = yaml.safe_load(f)
    check("docker-compose.yml parses as YAML", isinstance(doc, dict), type(doc))
except Exception as e:  # a parse error names line and column
    check("docker-compose.yml parses as YAML", False, e)
    sys.exit(1)

svcs = doc.get("services") or {}
check("services are exactly origin and proxy", sorted(svcs) == ["origin", "proxy"], sorted(svcs))
origin, proxy = svcs.get("origin") or {}, svcs.get("proxy") or {}

def words(cmd):
    return cmd if isinstance(cmd, list) else str(cmd).split()

ocmd = words(origin.get("command", []))
check("origin runs h2bridge-origin", ocmd[:1] == ["h2bridge-origin"], ocmd)
check("origin listens on all addresses at 8081",
      "--listen" in ocmd and ocmd[ocmd.index("--listen") + 1:][:1] == ["0.0.0.0:8081"], ocmd)
check("origin is built from the Dockerfile at the root", origin.get("build") in (".", {"context": "."}),
      origin.get("build"))
pcmd = " ".join(words(proxy.get("command", [])))
check("proxy runs h2bridge with config/examples/demo.yaml",
      "config/examples/demo.yaml" in pcmd and "exec h2bridge -c config/examples/" in pcmd, pcmd)
check("proxy uses the image the origin builds", proxy.get("image") == origin.get("image") != None,
      (proxy.get("image"), origin.get("image")))
dep = proxy.get("depends_on")
check("proxy depends on origin", dep == ["origin"] or (isinstance(dep, dict) and "origin" in dep), dep)
check("proxy shares the origin's network", proxy.get("network_mode") == "service:origin",
      proxy.get("network_mode"))
ports = [str(p) for p in origin.get("ports", [])]
check("port 8443 is published", "8443:8443" in ports, ports)
# the start-up edit must find the demo's listener address, or the published
# port would not reach the proxy
if "127.0.0.1:8443" in pcmd:
    demo_text = open(os.path.join(src, "config/examples/demo.yaml")).read() \
        if os.path.isfile(os.path.join(src, "config/examples/demo.yaml")) else ""
    check("demo.yaml listens on \"127.0.0.1:8443\" (the address compose rewrites)",
          '"127.0.0.1:8443"' in demo_text or not demo_text)
vols = doc.get("volumes") or {}
for v in proxy.get("volumes", []):
    name = str(v).split(":")[0]
    check("volume %s is declared" % name, name.startswith((".", "/")) or name in vols, vols)

dpath = os.path.join(src, "Dockerfile")
check("Dockerfile exists", os.path.isfile(dpath))
if os.path.isfile(dpath):
    lines = [l.strip() for l in open(dpath) if l.strip() and not l.lstrip().startswith("#")]
    check("Dockerfile builds FROM debian:12", lines[:1] == ["FROM debian:12"], lines[:1])
    for l in lines:
        if l.startswith("COPY ") and not l.startswith("COPY . "):
            p = l.split()[1]
            check("Dockerfile COPY source %s exists" % p, os.path.exists(os.path.join(src, p)))
    check("Dockerfile installs with scripts/deps.sh build",
          any("scripts/deps.sh build" in l for l in lines))
demo = os.path.join(src, "config/examples/demo.yaml")
if os.path.isfile(demo):
    try:
        with open(demo) as f:
            check("config/examples/demo.yaml (the proxy's config) parses as YAML",
                  isinstance(yaml.safe_load(f), dict))
    except Exception as e:
        check("config/examples/demo.yaml (the proxy's config) parses as YAML", False, e)
else:
    # Written by the configuration work (issue 8); until then nothing to check.
    print("SKIP config/examples/demo.yaml does not exist yet")
print("test_compose_syntax: %s" % ("ok" if fails == 0 else "%d failed" % fails))
sys.exit(1 if fails else 0)
EOF
