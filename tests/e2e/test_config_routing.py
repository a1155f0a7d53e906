"""e2e: routing from a YAML configuration (docs/configuration.md, routes).

Two hosts x two path prefixes go to four upstream groups, each one origin
started with its own --id; the X-Origin-Id response header says which origin
served a request. Also: a wildcard host, an exact path, first match wins, and
404 when no route matches. The proxy is started with `-c FILE` only, so the
file alone builds the configuration."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402


class HostClient(pl.H2Client):
    """H2Client with a chosen :authority (the base class always sends localhost)."""

    def get(self, host, path):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                     (":authority", host), (":path", path)], end_stream=True)
        r = pl.Response()
        self.streams[sid] = r
        self.flush()
        self.wait([sid], deadline=30.0)
        return r


def main():
    pl.require_binaries()
    env = pl.Env()
    ck = pl.Checker()
    try:
        ids = ["a-api", "a-web", "b-api", "b-web"]
        origins = {i: env.origin(i) for i in ids}
        port = pl.free_port()
        ups = "".join('  %s: {servers: ["127.0.0.1:%d"]}\n' % (i, origins[i].port) for i in ids)
        yaml = ("listeners:\n"
                "  - address: \"127.0.0.1:%d\"\n"
                "    tls:\n"
                "      certificates: [{cert: %s, key: %s}]\n"
                "upstreams:\n%s"
                "routes:\n"
                "  - {host: a.test, path_prefix: /bytes/, upstream: a-api}\n"
                "  - {host: a.test, path_prefix: /status/, upstream: a-web}\n"
                "  - {host: b.test, path_prefix: /bytes/, upstream: b-api}\n"
                "  - {host: b.test, path_prefix: /status/, upstream: b-web}\n"
                "  - {host: \"*.b.test\", upstream: b-web}\n"
                "  - {path: /inspect, upstream: a-web}\n"
                % (port, env.cert, env.key, ups))
        path = os.path.join(env.dir, "routing.yaml")
        with open(path, "w") as f:
            f.write(yaml)
        proxy = env.spawn([pl.BIN, "-c", path], "proxy")
        try:
            pl.wait_port(port, proxy, timeout=20)
        except RuntimeError as e:
            log = env.log(proxy)
            if "not served yet" in log or "usage" in log:
                pl.skip("h2bridge does not serve this configuration yet: " + log.strip())
            raise RuntimeError("%s\n%s" % (e, log))
        c = HostClient(port)
        # (host, path, status, origin id or None for the proxy's own 404)
        cases = [
            ("a.test", "/bytes/5", 200, "a-api"),
            ("a.test", "/status/201", 201, "a-web"),
            ("b.test", "/bytes/7?x=1", 200, "b-api"),
            ("b.test", "/status/202", 202, "b-web"),
            ("A.TEST", "/bytes/1", 200, "a-api"),        # host is case-insensitive
            ("a.test:443", "/status/203", 203, "a-web"),  # the port is not matched
            ("x.b.test", "/status/204", 204, "b-web"),   # wildcard host
            ("y.x.b.test", "/bytes/2", 200, "b-web"),    # any depth of subdomain
            ("x.b.test", "/inspect", 200, "b-web"),      # first match wins, not a-web
            ("other.test", "/inspect", 200, "a-web"),    # exact path, any host
            ("other.test", "/inspect/", 404, None),      # exact means exact
            ("a.test", "/bytes", 404, None),             # prefix /bytes/ is not /bytes
            ("b.test", "/", 404, None),
            ("c.test", "/bytes/1", 404, None),
        ]
        for host, p, status, ident in cases:
            r = c.get(host, p)
            what = "%s %s" % (host, p)
            ck.eq(r.status, status, what + " status")
            ck.eq(r.header("x-origin-id"), ident, what + " served by")
        c.close()
    finally:
        env.close()
    ck.finish()


if __name__ == "__main__":
    main()
