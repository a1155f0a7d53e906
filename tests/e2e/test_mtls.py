"""e2e: client certificates (listeners[].tls.client_auth).

A CA, a client certificate it signed (with DNS, URI and email
subjectAltNames), one it signed and then revoked (in a CRL), and one from
another CA, all made with openssl for the test.

- required: the good certificate is served, and the backend gets its
  subject, subjectAltNames and SHA-256 (of the DER, checked here) in the
  configured headers, whatever the client wrote in them; no certificate, a
  certificate from another CA and a revoked one fail the handshake, each
  with a log line naming why.
- optional: no certificate is served, without the headers (a client's own
  copies are removed); the good certificate is served with them.
- client_auth without client_ca is refused by h2bridge -t at its position.
"""
import hashlib
import json
import os
import ssl
import subprocess
import sys

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
crlnumber = {d}/crlnumber
default_md = sha256
default_days = 2
default_crl_days = 2
policy = any
copy_extensions = copy
[any]
commonName = supplied
organizationName = optional
"""


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    os.makedirs(d)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "crlnumber"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(CA_CNF.format(d=d))
    p = lambda n: os.path.join(d, n)  # noqa: E731
    for ca in ("ca", "rogue"):
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-days", "2", "-subj", "/CN=%s CA" % ca, "-keyout", p(ca + ".key"),
           "-out", p(ca + ".pem"))
    for name, san in (("good", "DNS:client.test,URI:spiffe://test/good,email:good@test"),
                      ("revoked", "DNS:revoked.test"), ("stranger", "DNS:stranger.test")):
        sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-subj", "/O=Test/CN=%s client" % name, "-addext", "subjectAltName=" + san,
           "-keyout", p(name + ".key"), "-out", p(name + ".csr"))
        if name == "stranger":  # signed by the other CA
            sh("openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p("rogue.pem"),
               "-CAkey", p("rogue.key"), "-CAcreateserial", "-days", "2", "-copy_extensions",
               "copy", "-out", p(name + ".pem"))
        else:
            sh("openssl", "ca", "-batch", "-config", cnf, "-cert", p("ca.pem"), "-keyfile",
               p("ca.key"), "-in", p(name + ".csr"), "-out", p(name + ".pem"), "-notext")
    sh("openssl", "ca", "-config", cnf, "-cert", p("ca.pem"), "-keyfile", p("ca.key"),
       "-revoke", p("revoked.pem"))
    sh("openssl", "ca", "-config", cnf, "-cert", p("ca.pem"), "-keyfile", p("ca.key"),
       "-gencrl", "-out", p("crl.pem"))
    return p


class CertClient(pl.H2Client):
    def __init__(self, port, cert=None, key=None):
        ctx = pl.tls_context(["h2"])
        if cert:
            ctx.load_cert_chain(cert, key)
        sock = pl.tls_connect(port, ctx=ctx, timeout=10)
        self.setup(sock)


def inspect(cl, headers=()):
    r = cl.request("GET", "/inspect", headers=list(headers), deadline=10)
    if r.status != 200:
        return None
    return {k.lower(): v for k, v in json.loads(bytes(r.body))["headers"]}


def refused(port, cert=None, key=None):
    try:
        cl = CertClient(port, cert, key)
        return inspect(cl) is None
    except (OSError, ssl.SSLError, AssertionError, ValueError):
        return True


def start(env, origin, p, mode, crl=True):
    port = pl.free_port()
    path = os.path.join(env.dir, "mtls-%s.yaml" % mode)
    with open(path, "w") as f:
        f.write("listeners:\n  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n      certificates: [{cert: %s, key: %s}]\n"
                "      client_auth: %s\n      client_ca: %s\n%s"
                "upstreams: {app: {servers: [\"127.0.0.1:%d\"]}}\n"
                "routes: [{upstream: app}]\n"
                % (port, env.cert, env.key, mode, p("ca.pem"),
                   "      client_crl: %s\n" % p("crl.pem") if crl else "", origin.port))
    proc = env.spawn([pl.BIN, "-c", path], "proxy-" + mode)
    pl.wait_port(port, proc, 20)
    proc.port = port
    return proc


def der_sha256(pem_path):
    der = ssl.PEM_cert_to_DER_cert(open(pem_path).read())
    return hashlib.sha256(der).hexdigest()


def main():
    pl.require_binaries()
    env = pl.Env()
    c = pl.Checker()
    try:
        origin = env.origin()
        p = make_pki(os.path.join(env.dir, "pki"))
        req = start(env, origin, p, "required")
        cl = CertClient(req.port, p("good.pem"), p("good.key"))
        hs = inspect(cl, [("x-client-cert-subject", "CN=forged"), ("x-client-cert-sha256", "00")])
        c.check(hs is not None, "required: the good certificate is served")
        hs = hs or {}
        c.check("CN=good client" in hs.get("x-client-cert-subject", "") and
                "O=Test" in hs.get("x-client-cert-subject", ""),
                "the backend gets the verified subject: %r" % hs.get("x-client-cert-subject"))
        c.eq(hs.get("x-client-cert-san"),
             "DNS:client.test, URI:spiffe://test/good, email:good@test", "and the SANs")
        c.eq(hs.get("x-client-cert-sha256"), der_sha256(p("good.pem")), "and the SHA-256")
        cl.close()
        c.check(refused(req.port), "required: no certificate, no service")
        c.check(env.wait_log(req, "TLS handshake without the required client certificate"),
                "logged: no certificate")
        c.check(refused(req.port, p("stranger.pem"), p("stranger.key")),
                "required: a certificate from another CA is refused")
        c.check(env.wait_log(req, "TLS client certificate refused: unable to get local issuer"),
                "logged: unknown issuer")
        c.check(refused(req.port, p("revoked.pem"), p("revoked.key")),
                "required: a revoked certificate is refused")
        c.check(env.wait_log(req, "TLS client certificate refused: certificate revoked"),
                "logged: revoked")
        opt = start(env, origin, p, "optional", crl=False)
        cl = CertClient(opt.port)
        hs = inspect(cl, [("x-client-cert-subject", "CN=forged"), ("x-client-cert-san", "x")])
        c.check(hs is not None, "optional: no certificate is served")
        hs = hs or {}
        c.eq((hs.get("x-client-cert-subject"), hs.get("x-client-cert-san")), (None, None),
             "optional, no certificate: the client's own copies of the headers are removed")
        cl.close()
        cl = CertClient(opt.port, p("good.pem"), p("good.key"))
        hs = inspect(cl) or {}
        c.eq(hs.get("x-client-cert-sha256"), der_sha256(p("good.pem")),
             "optional with the good certificate: the headers")
        cl.close()
        bad = os.path.join(env.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("listeners:\n  - address: \"127.0.0.1:1\"\n"
                    "    tls: {certificates: [{cert: %s, key: %s}], client_auth: required}\n"
                    "upstreams: {app: {servers: [\"127.0.0.1:2\"]}}\nroutes: [{upstream: app}]\n"
                    % (env.cert, env.key))
        r = subprocess.run([pl.BIN, "-t", "-c", bad], capture_output=True, text=True)
        c.check(r.returncode == 1 and "bad.yaml:2:5: expected tls.client_ca" in r.stdout + r.stderr,
                "-t: client_auth without client_ca: %r" % (r.stdout + r.stderr))
    finally:
        if c.failed:
            env.dump_logs()
        env.close()
    c.finish()


if __name__ == "__main__":
    main()
