#!/usr/bin/env bash
# tests/e2e/test_kubernetes.sh — deploy/kubernetes/*.yaml against the
# Kubernetes OpenAPI schemas, strictly (unknown fields fail too:
# tests/deploy/validate_k8s.js, with the npm package kubernetes-models at
# the version of tests/deploy/package-lock.json, installed with `npm ci`
# into the build directory, never into the tree). Broken copies (a
# misspelled field, a wrong type, an unknown kind) must fail, so the check
# is known to bite. The proxy configuration in the ConfigMap passes
# `h2bridge -t` (its certificate paths pointed at a test certificate).
# No cluster is involved: the manifests are checked, not run.
# env: H2B_SOURCE_DIR, H2B_BUILD_DIR, H2B_BIN.
set -u
src=${H2B_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${H2B_BUILD_DIR:-$src/build/release}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "SKIP: node and npm are not installed (scripts/deps.sh test)"
    exit 0
fi
fails=0
check() { # check NAME CMD...: CMD must succeed
    local name=$1; shift
    if "$@"; then echo "PASS $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
refuses() { # refuses NAME FILE: the validator must reject FILE
    local out
    if out=$(cd "$dir" && node validate_k8s.js "$2" 2>&1); then
        echo "FAIL $1 (accepted: $out)"; fails=$((fails + 1))
    else
        echo "PASS $1: $(echo "$out" | grep FAIL | head -1)"
    fi
}

dir=$build/deploy-checks
mkdir -p "$dir"
cp "$src/tests/deploy/package.json" "$src/tests/deploy/package-lock.json" \
   "$src/tests/deploy/validate_k8s.js" "$dir/"
if [ ! -d "$dir/node_modules/kubernetes-models" ] ||
   ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.used"; then
    if ! (cd "$dir" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1); then
        tail -20 "$dir/npm.log"
        echo "FAIL npm ci (the registry must be reachable the first time)"
        exit 1
    fi
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.used"
fi

k8s=$src/deploy/kubernetes
check "deploy/kubernetes validates against the Kubernetes schemas" \
    bash -c "cd '$dir' && node validate_k8s.js '$k8s'/*.yaml"
for kind in Deployment Service ConfigMap PodDisruptionBudget CronJob; do
    check "deploy/kubernetes has a $kind" grep -q "^kind: $kind\$" "$k8s"/*.yaml
done
check "the proxy's readiness probe is /readyz" grep -q "path: /readyz" "$k8s/deployment.yaml"
check "the proxy's liveness probe is /healthz" grep -q "path: /healthz" "$k8s/deployment.yaml"
check "memcached has a Deployment and a Service" \
    bash -c "grep -q '^kind: Deployment' '$k8s/memcached.yaml' && grep -q '^kind: Service' '$k8s/memcached.yaml'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/readinessProbe:/readinesProbe:/' "$k8s/deployment.yaml" >"$tmp/misspelled.yaml"
refuses "a misspelled field is refused" "$tmp/misspelled.yaml"
sed 's/replicas: 3/replicas: three/' "$k8s/deployment.yaml" >"$tmp/type.yaml"
refuses "a wrong type is refused" "$tmp/type.yaml"
sed 's/maxUnavailable: 1/maxUnavailabl: 1/' "$k8s/pdb.yaml" >"$tmp/pdb.yaml"
refuses "a misspelled PodDisruptionBudget field is refused" "$tmp/pdb.yaml"
sed 's/^kind: Service$/kind: Servic/' "$k8s/service.yaml" >"$tmp/kind.yaml"
refuses "an unknown kind is refused" "$tmp/kind.yaml"
sed 's/            seconds: 5/            second: 5/' "$k8s/deployment.yaml" >"$tmp/prestop.yaml"
refuses "a misspelled preStop field is refused" "$tmp/prestop.yaml"

# The ConfigMap's proxy configuration, checked by the proxy itself.
if [ -n "${H2B_BIN:-}" ] && [ -x "$H2B_BIN" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -keyout "$tmp/tls.key" -out "$tmp/tls.crt" >/dev/null 2>&1
    /usr/bin/python3 - "$k8s/configmap.yaml" "$tmp" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
text = doc["data"]["h2bridge.yaml"].replace("/etc/h2bridge/tls/", sys.argv[2] + "/")
open(sys.argv[2] + "/h2bridge.yaml", "w").write(text)
PY
    check "the ConfigMap's h2bridge.yaml passes h2bridge -t" \
        timeout 30 "$H2B_BIN" -t -c "$tmp/h2bridge.yaml"
fi
echo "test_kubernetes: $([ $fails -eq 0 ] && echo ok || echo "$fails failed")"
[ $fails -eq 0 ]
