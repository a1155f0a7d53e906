"""e2e: TLS to the backend (upstreams.*.tls) against a real nginx with TLS.

Certificates are made here with openssl: a CA, a server certificate it signs
(DNS:backend.test, IP:127.0.0.1), an expired one it signed, one signed by
another CA, and a client certificate for mTLS. nginx (our own instance,
stopped by PID) serves each on its own port and logs $ssl_session_reused,
$ssl_server_name and $ssl_alpn_protocol.
- verified by the CA file, SNI backend.test: 200; nginx saw SNI backend.test
  and ALPN http/1.1;
- the default name (the server's address 127.0.0.1, an IP SAN): 200, no SNI;
- verify_name wrong.test: 502 and the log line names "Hostname mismatch";
- the expired certificate, the other CA's, and the system store (which does
  not know our CA: verification is on by default): 502, reason in the log;
- verify: false accepts the other CA's certificate;
- nginx ssl_verify_client on: 400 from nginx without a client certificate,
  200 with it (nginx saw its subject);
- session resumption: with keepalive 0 every request dials; nginx logs the
  later handshakes as reused ("r") and the proxy counts them
  (h2bridge_backend_tls_resumed_total); session_reuse: false never resumes.
- HTTP health checks over TLS (nginx's own port "hc"): checks of a verified
  upstream pass (nginx logs them with SNI backend.test, counted passed,
  the server stays up); checks with verify_name wrong.test fail on the
  handshake and take the server down, the log naming the reason.
"""
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CA_CNF = """[ca]
default_ca = test
[test]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
default_days = 2
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
"""


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    os.makedirs(d)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(CA_CNF.format(d=d))
    p = lambda n: os.path.join(d, n)  # noqa: E731
    for ca in ("ca", "rogue"):
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-days", "2", "-subj", "/CN=%s CA" % ca, "-keyout", p(ca + ".key"),
           "-out", p(ca + ".pem"))
    for name, san in (("good", "DNS:backend.test,IP:127.0.0.1"),
                      ("expired", "DNS:backend.test,IP:127.0.0.1"),
                      ("stranger", "DNS:backend.test,IP:127.0.0.1"),
                      ("client", "DNS:proxy.test")):
        sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-subj", "/CN=%s" % name, "-addext", "subjectAltName=" + san,
           "-keyout", p(name + ".key"), "-out", p(name + ".csr"))
        if name == "stranger":
            sh("openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p("rogue.pem"),
               "-CAkey", p("rogue.key"), "-CAcreateserial", "-days", "2", "-copy_extensions",
               "copy", "-out", p(name + ".pem"))
            continue
        dates = ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] \
            if name == "expired" else []
        sh("openssl", "ca", "-batch", "-config", cnf, "-cert", p("ca.pem"), "-keyfile",
           p("ca.key"), "-in", p(name + ".csr"), "-out", p(name + ".pem"), "-notext", *dates)
    return p


def nginx_conf(env, p, ports):
    user = "user root root;" if os.geteuid() == 0 else ""
    d = env.dir
    servers = []
    for name, port in ports.items():
        cert = "stranger" if name == "stranger" else "expired" if name == "expired" else "good"
        extra = ""
        if name == "mtls":
            extra = "ssl_verify_client on; ssl_client_certificate %s;" % p("ca.pem")
        servers.append("""
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s; ssl_certificate_key %s;
        ssl_protocols TLSv1.2 TLSv1.3;
        %s
        location / { return 200 "%s dn=$ssl_client_s_dn\\n"; }
    }""" % (port, p(cert + ".pem"), p(cert + ".key"), extra, name))
    return """
%s
worker_processes 1;
pid %s/nginx.pid;
error_log %s/nginx-error.log info;
events { worker_connections 256; }
http {
    log_format tls '$server_port reused=$ssl_session_reused sni=$ssl_server_name alpn=$ssl_alpn_protocol proto=$ssl_protocol';
    access_log %s/nginx-access.log tls;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy; fastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;
    %s
}
""" % (user, d, d, d, d, d, d, d, d, "".join(servers))


def access(env):
    try:
        with open(os.path.join(env.dir, "nginx-access.log")) as f:
            return f.read().splitlines()
    except OSError:
        return []


def wait_lines(env, port, n, limit=5.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        got = [ln for ln in access(env) if ln.startswith("%d " % port)]
        if len(got) >= n:
            return got
        time.sleep(0.05)
    return [ln for ln in access(env) if ln.startswith("%d " % port)]


def metric(port, name, upstream):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
    total = 0
    for ln in body.splitlines():
        if ln.startswith(name + "{") and 'upstream="%s"' % upstream in ln:
            total += int(float(ln.rsplit(" ", 1)[1]))
    return total


HC = "health_check: {path: /hc, interval: 600ms, jitter: 50ms, timeout: 500ms, rise: 1, fall: 2}"


def health(c, env, px, aport, hport):
    server = "127.0.0.1:%d" % hport
    c.check(env.wait_log(px, "health: upstream hcwrong server %s: down (2 checks failed in a "
                         "row, last: TLS handshake: certificate verify failed: Hostname mismatch "
                         "(verify_name wrong.test))" % server),
            "hcwrong: down after 2 failed TLS handshakes, the reason logged")
    ln = wait_lines(env, hport, 3)
    c.check(len(ln) >= 3 and all("sni=backend.test" in x and "alpn=http/1.1" in x for x in ln),
            "hcgood: nginx served its checks over TLS (SNI, ALPN): %r" % ln[:3])
    c.check(metric(aport, "h2bridge_backend_health_checks_total", "hcgood") >= 3,
            "hcgood: checks counted")
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % aport, timeout=10).read()
    up = {u: re.search(rb'h2bridge_backend_up\{upstream="%s",server="%s"\} (\d)'
                       % (u.encode(), server.encode()), body) for u in ("hcgood", "hcwrong")}
    c.check(up["hcgood"] and up["hcgood"].group(1) == b"1", "hcgood: up")
    c.check(up["hcwrong"] and up["hcwrong"].group(1) == b"0", "hcwrong: down")
    c.check("down" not in "".join(x for x in env.log(px).splitlines() if "hcgood" in x),
            "hcgood never went down")


def main():
    pl.require_binaries()
    if not os.access(NGINX, os.X_OK):
        pl.skip("nginx not installed")
    env = pl.Env()
    c = pl.Checker()
    try:
        p = make_pki(os.path.join(env.dir, "pki"))
        ports = {n: pl.free_port() for n in ("good", "expired", "stranger", "mtls", "hc")}
        conf = os.path.join(env.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(env, p, ports))
        ng = env.spawn([NGINX, "-p", env.dir, "-c", conf, "-g", "daemon off;"], "nginx")
        for port in ports.values():
            pl.wait_port(port, ng)

        ca = p("ca.pem")
        ups = {
            # name: (nginx server, tls mapping, extra upstream keys)
            "good": ("good", "{ca_file: %s, sni: backend.test}" % ca, "keepalive: 0"),
            "ip": ("good", "{ca_file: %s}" % ca, ""),
            "wrong": ("good", "{ca_file: %s, sni: backend.test, verify_name: wrong.test}" % ca, ""),
            "expired": ("expired", "{ca_file: %s}" % ca, ""),
            "stranger": ("stranger", "{ca_file: %s}" % ca, ""),
            "system": ("good", "{sni: backend.test}", ""),
            "noverify": ("stranger", "{verify: false}", ""),
            "nocert": ("mtls", "{ca_file: %s}" % ca, ""),
            "mtls": ("mtls", "{ca_file: %s, cert: %s, key: %s}" % (ca, p("client.pem"),
                                                                   p("client.key")), ""),
            "noreuse": ("good", "{ca_file: %s, session_reuse: false}" % ca, "keepalive: 0"),
            "hcgood": ("hc", "{ca_file: %s, sni: backend.test}" % ca, HC),
            "hcwrong": ("hc", "{ca_file: %s, sni: backend.test, verify_name: wrong.test}" % ca,
                        HC),
        }
        lport, aport = pl.free_port(), pl.free_port()
        y = ["listeners:", "  - address: \"127.0.0.1:%d\"" % lport,
             "    tls: {certificates: [{cert: %s, key: %s}]}" % (env.cert, env.key),
             "admin: {address: \"127.0.0.1:%d\"}" % aport, "upstreams:"]
        for name, (srv, tls, extra) in ups.items():
            y.append("  %s: {servers: [\"127.0.0.1:%d\"], tls: %s, retries: 0%s}"
                     % (name, ports[srv], tls, ", " + extra if extra else ""))
        y.append("routes:")
        for name in ups:
            y.append("  - {path_prefix: /%s/, upstream: %s}" % (name, name))
        path = os.path.join(env.dir, "proxy.yaml")
        with open(path, "w") as f:
            f.write("\n".join(y) + "\n")
        px = env.spawn([pl.BIN, "-c", path, "--workers", "1"], "proxy")
        pl.wait_port(lport, px, 20)
        cl = pl.H2Client(lport, timeout=15)

        def get(name):
            r = cl.request("GET", "/%s/x" % name, deadline=15)
            return r.status, bytes(r.body).decode("utf-8", "replace")

        st, body = get("good")
        c.eq(st, 200, "verified by the CA file: 200")
        c.check(body.startswith("good "), "the good server answered: %r" % body)
        ln = wait_lines(env, ports["good"], 1)
        c.check(ln and "sni=backend.test" in ln[-1] and "alpn=http/1.1" in ln[-1],
                "nginx saw SNI backend.test and ALPN http/1.1: %r" % ln[-1:])

        n_before = len(wait_lines(env, ports["good"], 1))
        c.eq(get("ip")[0], 200, "the default verified name (127.0.0.1, an IP SAN): 200")
        ln = wait_lines(env, ports["good"], n_before + 1)
        c.check(ln and "sni=- " in ln[-1], "no SNI for an IP address: %r" % ln[-1:])

        for name, why in (("wrong", "certificate verify failed: Hostname mismatch (verify_name "
                                    "wrong.test)"),
                          ("expired", "certificate verify failed: certificate has expired"),
                          ("stranger", "certificate verify failed: unable to get local issuer "
                                       "certificate"),
                          ("system", "certificate verify failed: unable to get local issuer "
                                     "certificate")):
            st, _ = get(name)
            c.eq(st, 502, "%s: refused with 502" % name)
            c.check(env.wait_log(px, "TLS handshake failed: " + why),
                    "%s: the log names the reason (%s)" % (name, why))
        c.check(env.wait_log(px, "backend 127.0.0.1:%d: TLS handshake failed → 502"
                             % ports["good"]) or "TLS handshake failed → 502" in env.log(px),
                "the exchange's 502 line says TLS handshake failed")

        st, body = get("noverify")
        c.eq((st, body[:9]), (200, "stranger "), "verify: false accepts any certificate")

        st, body = get("nocert")
        c.eq(st, 400, "ssl_verify_client on without a client certificate: nginx's 400")
        c.check("No required SSL certificate was sent" in body,
                "nginx's whole 400 page came through (its close_notify follows the body at "
                "once): %r" % body[-80:])
        st, body = get("mtls")
        c.eq(st, 200, "with the client certificate: 200")
        c.check("dn=CN=client" in body, "nginx verified the client certificate: %r" % body)

        # Resumption: each request on upstream good dials (keepalive 0).
        start = len(wait_lines(env, ports["good"], 0))
        for _ in range(4):
            c.eq(get("good")[0], 200, "good again")
        ln = wait_lines(env, ports["good"], start + 4)[start:]
        reused = sum(1 for x in ln if "reused=r" in x and "sni=backend.test" in x)
        c.check(reused >= 3, "nginx logs resumed handshakes: %r" % ln)
        res = metric(aport, "h2bridge_backend_tls_resumed_total", "good")
        hs = metric(aport, "h2bridge_backend_tls_handshakes_total", "good")
        c.check(hs >= 5 and res >= 3, "the proxy counts %d handshakes, %d resumed" % (hs, res))

        start = len(access(env))
        for _ in range(3):
            c.eq(get("noreuse")[0], 200, "noreuse")
        time.sleep(0.3)
        ln = [x for x in access(env)[start:] if x.startswith("%d " % ports["good"])]
        c.check(len(ln) == 3 and all("reused=." in x for x in ln),
                "session_reuse: false never resumes: %r" % ln)
        c.eq(metric(aport, "h2bridge_backend_tls_resumed_total", "noreuse"), 0,
             "noreuse: no resumption counted")
        c.check("response body ended" not in env.log(px), "no body was cut short")
        health(c, env, px, aport, ports["hc"])
        cl.close()
        # A config that names a bad CA file is refused at load, at its key.
        bad = os.path.join(env.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("listeners: [{address: \"127.0.0.1:1\"}]\nupstreams:\n"
                    "  u: {servers: [\"127.0.0.1:2\"], tls: {ca_file: %s}}\n"
                    "routes: [{upstream: u}]\n" % p("nothere.pem"))
        r = subprocess.run([pl.BIN, "-t", "-c", bad], capture_output=True, text=True, timeout=20)
        out = r.stdout + r.stderr
        c.check(r.returncode != 0 and re.search(r"bad\.yaml:3:\d+: .*nothere\.pem", out),
                "-t names the bad CA file at its key: %r" % out[-400:])
    finally:
        if c.failed:
            env.dump_logs()
            for n in ("nginx-error.log", "nginx-access.log"):
                try:
                    print("----", n)
                    print(open(os.path.join(env.dir, n)).read()[-3000:])
                except OSError:
                    pass
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
