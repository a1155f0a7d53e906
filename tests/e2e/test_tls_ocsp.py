"""e2e: OCSP stapling from a file (listeners[].tls.certificates[].ocsp_file).

A CA, a server certificate it signed and OCSP responses for it, all made
with openssl (ca, then ocsp with an index file, -rsigner, -respout).

- openssl s_client -status gets the stapled response: successful, good.
- The file is replaced by a response saying revoked: within
  ocsp_check_interval (1 s here) the new one is stapled, and logged.
- A corrupt file: the previous response stays stapled, and a log line says
  why.
- h2bridge -t: a file that is not an OCSP response for the certificate is
  refused at the ocsp_file key.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

CA_CNF = """
[ca]
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
[any]
commonName = supplied
"""


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    os.makedirs(d)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("2000\n")
    p = lambda n: os.path.join(d, n)  # noqa: E731
    with open(p("ca.cnf"), "w") as f:
        f.write(CA_CNF.format(d=d))
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-days", "2", "-subj", "/CN=OCSP test CA", "-keyout", p("ca.key"), "-out", p("ca.pem"))
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout",
       p("srv.key"), "-out", p("srv.csr"))
    sh("openssl", "ca", "-batch", "-config", p("ca.cnf"), "-cert", p("ca.pem"), "-keyfile",
       p("ca.key"), "-in", p("srv.csr"), "-out", p("srv.pem"), "-notext")
    with open(p("chain.pem"), "w") as f:  # leaf, then its issuer
        f.write(open(p("srv.pem")).read() + open(p("ca.pem")).read())
    sh("openssl", "ocsp", "-issuer", p("ca.pem"), "-cert", p("srv.pem"), "-no_nonce",
       "-reqout", p("req.der"))
    return p


def respond(p, out):
    sh("openssl", "ocsp", "-index", p("index.txt"), "-rsigner", p("ca.pem"), "-rkey", p("ca.key"),
       "-CA", p("ca.pem"), "-reqin", p("req.der"), "-respout", out, "-ndays", "1")


def stapled(port):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
                        "localhost", "-status"], input=b"", capture_output=True, timeout=20)
    out = r.stdout.decode("utf-8", "replace")
    if "OCSP response: no response sent" in out:
        return "none"
    for line in out.splitlines():
        if "Cert Status:" in line:
            return line.split(":", 1)[1].strip()
    return "?"


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        p = make_pki(os.path.join(env.dir, "pki"))
        live = os.path.join(env.dir, "srv.ocsp")
        respond(p, live)
        origin = env.origin()
        port = pl.free_port()
        cfg = os.path.join(env.dir, "ocsp.yaml")
        with open(cfg, "w") as f:
            f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n"
                    "    tls:\n      certificates: [{cert: %s, key: %s, ocsp_file: %s}]\n"
                    "      ocsp_check_interval: 1s\n"
                    "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                    "routes: [{upstream: app}]\n"
                    % (port, p("chain.pem"), p("srv.key"), live, origin.port))
        r = subprocess.run([pl.BIN, "-t", "-c", cfg], capture_output=True, text=True)
        c.eq(r.returncode, 0, "-t accepts the configuration: %s" % (r.stdout + r.stderr))
        proc = env.spawn([pl.BIN, "-c", cfg], "proxy")
        pl.wait_port(port, proc, 20)
        c.eq(stapled(port), "good", "s_client -status: the stapled response says good")

        sh("openssl", "ca", "-config", p("ca.cnf"), "-cert", p("ca.pem"), "-keyfile",
           p("ca.key"), "-revoke", p("srv.pem"))
        respond(p, live + ".new")
        os.rename(live + ".new", live)  # as a cron job replaces it
        got, deadline = None, time.time() + 10
        while time.time() < deadline:
            got = stapled(port)
            if got == "revoked":
                break
            time.sleep(0.3)
        c.eq(got, "revoked", "the replaced file is stapled within the interval")
        c.check(env.wait_log(proc, "OCSP response reloaded"), "the reload is logged")

        with open(live + ".new", "wb") as f:
            f.write(b"\x30\x03\x0a\x01\x00garbage")
        os.rename(live + ".new", live)
        time.sleep(1.2)
        c.eq(stapled(port), "revoked", "a corrupt file: the previous response is still stapled")
        c.check(env.wait_log(proc, "not a usable OCSP response: not a DER OCSPResponse; the "
                             "previous OCSP response is kept"), "the corrupt file is logged")

        # -t: an OCSP request, or a response for another certificate of the
        # same CA, is refused at the ocsp_file value.
        shutil.copy(p("req.der"), os.path.join(env.dir, "notresp.der"))
        sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-subj", "/CN=other", "-keyout", p("o.key"), "-out", p("o.csr"))
        sh("openssl", "ca", "-batch", "-config", p("ca.cnf"), "-cert", p("ca.pem"), "-keyfile",
           p("ca.key"), "-in", p("o.csr"), "-out", p("o.pem"), "-notext")
        sh("openssl", "ocsp", "-issuer", p("ca.pem"), "-cert", p("o.pem"), "-no_nonce",
           "-reqout", p("oreq.der"))
        sh("openssl", "ocsp", "-index", p("index.txt"), "-rsigner", p("ca.pem"), "-rkey",
           p("ca.key"), "-CA", p("ca.pem"), "-reqin", p("oreq.der"), "-respout",
           os.path.join(env.dir, "foreign.der"), "-ndays", "1")
        for name, why in (("notresp.der", "not a DER OCSPResponse"),
                          ("foreign.der", "no SingleResponse for the certificate's serial number")):
            other = os.path.join(env.dir, "other.yaml")
            with open(other, "w") as f:
                f.write("listeners:\n  - address: \"127.0.0.1:1\"\n"
                        "    tls:\n      certificates:\n        - cert: %s\n          key: %s\n"
                        "          ocsp_file: %s\n"
                        "upstreams: {app: {servers: [\"127.0.0.1:2\"]}}\n"
                        "routes: [{upstream: app}]\n"
                        % (p("chain.pem"), p("srv.key"), os.path.join(env.dir, name)))
            r = subprocess.run([pl.BIN, "-t", "-c", other], capture_output=True, text=True)
            out = r.stdout + r.stderr
            c.check(r.returncode == 1 and "other.yaml:7:22: expected a DER OCSP response for the "
                    "certificate" in out and why in out, "-t refuses %s: %r" % (name, out))
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
