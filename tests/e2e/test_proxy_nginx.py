"""h2bridge in front of a real nginx origin (our own instance: temp prefix,
free loopback port, stopped by PID): static GET with Content-Length (0 B,
1 KiB, 10 MiB), HEAD, PUT (nginx DAV) of 0 B / 1 KiB / 10 MiB read back
exactly, a chunked (gzip) response, 204, 304 and 405."""
import gzip
import hashlib
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_lib as pl  # noqa: E402

pl.require_binaries()
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
if not os.access(NGINX, os.X_OK):
    pl.skip("nginx not installed")
env = pl.Env()
t = pl.Checker()
try:
    root = os.path.join(env.dir, "www")
    os.makedirs(os.path.join(root, "up"))
    files = {"f0": b"", "f1k": os.urandom(1024), "f10m": os.urandom(10 << 20)}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    text = ("hello nginx %d\n" * 20000).encode()
    with open(os.path.join(root, "page.txt"), "wb") as f:
        f.write(text)
    nport = pl.free_port()
    conf = os.path.join(env.dir, "nginx.conf")
    user = "user root root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write("""
%s
worker_processes 1;
pid %s/nginx.pid;
error_log %s/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy; fastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;
    keepalive_requests 10000;
    types { text/plain txt; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%d;
        root %s;
        gzip on; gzip_types text/plain; gzip_min_length 1;
        location = /nothing { return 204; }
        location /up/ { dav_methods PUT DELETE; create_full_put_path on; client_max_body_size 64m; }
    }
}
""" % (user, env.dir, env.dir, env.dir, env.dir, env.dir, env.dir, env.dir, nport, root))
    ng = env.spawn([NGINX, "-p", env.dir, "-c", conf, "-g", "daemon off;"], "nginx")
    pl.wait_port(nport, ng)
    proxy = env.proxy([nport])
    c = pl.H2Client(proxy.port)

    for name, data in files.items():
        r = c.request("GET", "/" + name)
        t.eq((r.status, r.length), (200, len(data)), "GET /%s" % name)
        t.check(bytes(r.body) == data, "GET /%s bytes exact" % name)
        t.eq(r.header("content-length"), str(len(data)), "content-length of /%s" % name)
        r = c.request("HEAD", "/" + name)
        t.eq((r.status, r.length, r.header("content-length")), (200, 0, str(len(data))),
             "HEAD /%s" % name)
        etag = r.header("etag")
        r = c.request("GET", "/" + name, [("if-none-match", etag)])
        t.eq((r.status, r.length), (304, 0), "304 for /%s" % name)

    for name, data in files.items():
        r = c.request("PUT", "/up/" + name, [("content-length", str(len(data)))], body=data)
        t.check(r.status in (201, 204), "PUT /up/%s: %s" % (name, r.status))
        r = c.request("GET", "/up/" + name)
        t.eq(r.sha.hexdigest(), hashlib.sha256(data).hexdigest(), "PUT /up/%s read back" % name)

    r = c.request("GET", "/page.txt", [("accept-encoding", "gzip")])
    t.eq((r.status, r.header("content-encoding"), r.header("content-length")), (200, "gzip", None),
         "chunked gzip response")
    t.check(gzip.decompress(bytes(r.body)) == text, "gzip body decodes to the file")
    r = c.request("GET", "/nothing")
    t.eq((r.status, r.length), (204, 0), "204")
    r = c.request("POST", "/f1k", [("content-length", "3")], body=b"abc")
    t.eq(r.status, 405, "POST to a static file: nginx's 405 passes through")
    c.close()
except Exception as e:
    t.check(False, "exception: %r" % e)
finally:
    if t.failed:
        env.dump_logs()
        try:
            print(open(os.path.join(env.dir, "nginx-error.log")).read()[-3000:])
        except OSError:
            pass
    env.close()
t.finish()
