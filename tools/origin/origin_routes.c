/* tools/origin/origin_routes.c — which endpoint a request is for, and the
 * endpoints whose answer is small and fixed. Streamed bodies live in
 * origin_stream.c, /inspect in origin_inspect.c. See docs/origin.md. */
#include "tools/origin/origin.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define MAX_BYTES       (1ULL << 40) /* /bytes/N, /chunked/N, /trailers?n= */
#define MAX_PAGE_ITEMS  10000ULL     /* /page?n= */
#define MAX_FILL_FIELDS 100000ULL

static const char root_html[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>h2bridge-origin</title></head>\n"
    "<body><h1>h2bridge-origin</h1>\n<p>The demo HTTP/1.1 origin behind h2bridge.</p>\n<ul>\n"
    "<li><a href=\"/page?n=100\">/page?n=100</a> a page with 100 subresources</li>\n"
    "<li><a href=\"/bytes/1024\">/bytes/N</a> N deterministic bytes</li>\n"
    "<li><a href=\"/chunked/1024\">/chunked/N</a> the same, chunked</li>\n"
    "<li><a href=\"/trailers\">/trailers</a> a chunked body with trailers</li>\n"
    "<li><a href=\"/inspect\">/inspect</a> what this origin received, as JSON</li>\n"
    "<li>/echo, /delay/MS, /status/CODE, /headers?n=K&amp;size=S, /close</li>\n"
    "</ul></body></html>\n";

/* A valid 1x1 RGBA PNG. */
static const unsigned char png_1x1[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00"
    "\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63"
    "\x50\x48\x58\xf0\x1f\x00\x03\xe4\x02\x20\xa4\xd8\x1c\xcc\x00\x00\x00\x00\x49\x45\x4e\x44"
    "\xae\x42\x60\x82";

static const char *const asset_ext[3] = {"png", "css", "js"};
static const char *const asset_type[3] = {"image/png", "text/css; charset=utf-8",
                                          "text/javascript; charset=utf-8"};

/* Finds name=value in a query string ("a=1&b=2"). Returns 0 and *out (dflt
 * when absent), or -1 when the value is not a decimal <= max. */
static int query_u64(struct hb_str q, const char *name, unsigned long long dflt,
                     unsigned long long max, unsigned long long *out)
{
    size_t nl = strlen(name);
    *out = dflt;
    while (q.len) {
        const char *amp = memchr(q.p, '&', q.len);
        size_t n = amp ? (size_t)(amp - q.p) : q.len;
        if (n > nl && memcmp(q.p, name, nl) == 0 && q.p[nl] == '=')
            return hb_str_to_u64(hb_str_make(q.p + nl + 1, n - nl - 1), max, out) ? -1 : 0;
        q.p += amp ? n + 1 : n;
        q.len -= amp ? n + 1 : n;
    }
    return 0;
}

/* "/prefix/<decimal>" -> *out; returns 1 on match, 0 no prefix, -1 bad number. */
static int path_num(struct hb_str path, const char *prefix, unsigned long long max,
                    unsigned long long *out)
{
    struct hb_str pre = hb_str_c(prefix);
    if (!hb_str_has_prefix(path, pre))
        return 0;
    return hb_str_to_u64(hb_str_make(path.p + pre.len, path.len - pre.len), max, out) ? -1 : 1;
}

static void bad(struct og_conn *c, int status, const char *why)
{
    c->rq.route = OG_R_ERROR;
    c->rq.status = status;
    c->rq.why = why;
}

static void select_asset(struct og_conn *c, struct hb_str rest)
{
    const char *dot = memchr(rest.p, '.', rest.len);
    unsigned long long i;
    if (!dot || hb_str_to_u64(hb_str_make(rest.p, (size_t)(dot - rest.p)), 1000000000ULL, &i)) {
        bad(c, 404, "no such asset");
        return;
    }
    struct hb_str ext = hb_str_make(dot + 1, rest.len - (size_t)(dot - rest.p) - 1);
    for (unsigned k = 0; k < 3; k++) {
        if (hb_str_eq(ext, hb_str_c(asset_ext[k]))) {
            c->rq.route = OG_R_ASSET;
            c->rq.n = i;
            c->rq.k = k;
            return;
        }
    }
    bad(c, 404, "no such asset");
}

static void select_query_routes(struct og_conn *c, struct hb_str path, struct hb_str q)
{
    struct og_req *rq = &c->rq;
    unsigned long long a, b;
    if (hb_str_eq(path, HB_STR_LIT("/page"))) {
        if (query_u64(q, "n", 100, MAX_PAGE_ITEMS, &a))
            return bad(c, 400, "/page?n= takes 0..10000");
        rq->route = OG_R_PAGE;
        rq->n = a;
    } else if (hb_str_eq(path, HB_STR_LIT("/trailers"))) {
        if (query_u64(q, "n", 64, MAX_BYTES, &a))
            return bad(c, 400, "/trailers?n= takes 0..2^40");
        rq->route = OG_R_TRAILERS;
        rq->n = a;
    } else if (hb_str_eq(path, HB_STR_LIT("/headers"))) {
        if (query_u64(q, "n", 10, MAX_FILL_FIELDS, &a) || query_u64(q, "size", 32, 1 << 30, &b))
            return bad(c, 400, "/headers takes n=0..100000 and size=0..2^30");
        if (a * b > c->srv->lim.max_resp_head)
            return bad(c, 400, "/headers: n*size exceeds --max-resp-head");
        rq->route = OG_R_HEADERS;
        rq->n = a;
        rq->k = b;
    } else {
        bad(c, 404, "no such endpoint (see /)");
    }
}

void og_route_select(struct og_conn *c, const struct og_head *h)
{
    struct og_req *rq = &c->rq;
    struct hb_str t = h->target;
    unsigned long long v;
    int m;

    /* RFC 9112 §3.2.2: absolute-form; route on its path */
    if (t.len && t.p[0] != '/') {
        const char *s = memchr(t.p, '/', t.len);
        const char *p =
            s && s + 2 < t.p + t.len ? memchr(s + 2, '/', t.len - (size_t)(s + 2 - t.p)) : NULL;
        t = p ? hb_str_make(p, t.len - (size_t)(p - t.p)) : HB_STR_LIT("/");
    }
    const char *qm = memchr(t.p, '?', t.len);
    struct hb_str path = qm ? hb_str_make(t.p, (size_t)(qm - t.p)) : t;
    struct hb_str q = qm ? hb_str_make(qm + 1, t.len - path.len - 1) : HB_STR_NULL;

    if (hb_str_eq(path, HB_STR_LIT("/"))) {
        rq->route = OG_R_ROOT;
    } else if (hb_str_eq(path, HB_STR_LIT("/echo"))) {
        rq->route = OG_R_ECHO;
    } else if (hb_str_eq(path, HB_STR_LIT("/inspect"))) {
        rq->route = OG_R_INSPECT;
        rq->hash_body = 1;
        SHA256_Init(&rq->sha);
        if (og_inspect_begin(c, h) != 0)
            bad(c, 500, "out of memory");
    } else if (hb_str_eq(path, HB_STR_LIT("/close"))) {
        rq->route = OG_R_CLOSE;
        rq->keep_alive = 0;
    } else if (hb_str_has_prefix(path, HB_STR_LIT("/asset/"))) {
        select_asset(c, hb_str_make(path.p + 7, path.len - 7));
    } else if ((m = path_num(path, "/bytes/", MAX_BYTES, &v)) != 0) {
        rq->route = OG_R_BYTES;
        rq->n = v;
        if (m < 0)
            bad(c, 400, "/bytes/N takes 0..2^40");
    } else if ((m = path_num(path, "/chunked/", MAX_BYTES, &v)) != 0) {
        rq->route = OG_R_CHUNKED;
        rq->n = v;
        if (m < 0)
            bad(c, 400, "/chunked/N takes 0..2^40");
    } else if ((m = path_num(path, "/delay/", c->srv->lim.max_delay_ms, &v)) != 0) {
        rq->route = OG_R_DELAY;
        rq->n = v;
        if (m < 0)
            bad(c, 400, "/delay/MS takes 0..--max-delay");
    } else if ((m = path_num(path, "/status/", 599, &v)) != 0) {
        rq->route = OG_R_STATUS;
        rq->n = v;
        if (m < 0 || v < 100)
            bad(c, 400, "/status/CODE takes 100..599");
        else if (v == 101)
            bad(c, 400, "/status/101 would switch protocols without an Upgrade");
    } else {
        select_query_routes(c, path, q);
    }
}

static void respond_page(struct og_conn *c)
{
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return og_resp_error(c, 500, "out of memory");
    evbuffer_add_printf(b,
                        "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
                        "<title>%llu subresources</title>\n",
                        (unsigned long long)c->rq.n);
    for (unsigned long long i = 0; i < c->rq.n; i++)
        if (i % 3 == 1)
            evbuffer_add_printf(b, "<link rel=\"stylesheet\" href=\"/asset/%llu.css\">\n", i);
    evbuffer_add_printf(b, "</head><body>\n");
    for (unsigned long long i = 0; i < c->rq.n; i++) {
        if (i % 3 == 0)
            evbuffer_add_printf(
                b, "<img src=\"/asset/%llu.png\" width=\"1\" height=\"1\" alt=\"\">\n", i);
        else if (i % 3 == 2)
            evbuffer_add_printf(b, "<script src=\"/asset/%llu.js\"></script>\n", i);
    }
    evbuffer_add_printf(b, "</body></html>\n");
    size_t len = evbuffer_get_length(b);
    og_resp_head(c, 200, "text/html; charset=utf-8", (int64_t)len, NULL);
    if (!c->rq.head_only) {
        evbuffer_add_buffer(og_out(c), b);
        c->rq.bytes_out = len;
    }
    evbuffer_free(b);
    c->rq.resp = OG_RESP_DONE;
}

static void respond_asset(struct og_conn *c)
{
    char body[128];
    unsigned long long i = c->rq.n;
    int n = 0;
    if (c->rq.k == 0)
        return og_resp_simple(c, 200, asset_type[0], png_1x1, sizeof(png_1x1) - 1);
    if (c->rq.k == 1)
        n = snprintf(body, sizeof(body), ".a%llu { color: #%06llx; }\n", i,
                     (i * 2654435761ULL) & 0xffffff);
    else
        n = snprintf(body, sizeof(body),
                     "window.h2bAssets = (window.h2bAssets || 0) + 1; /* %llu */\n", i);
    og_resp_simple(c, 200, asset_type[c->rq.k], body, (size_t)n);
}

/* /headers?n=K&size=S: K fields "X-Fill-<i>" of S value bytes each. */
static void respond_headers(struct og_conn *c)
{
    struct evbuffer *out = og_out(c);
    char body[96];
    int n = snprintf(body, sizeof(body), "%llu header fields of %llu bytes\n",
                     (unsigned long long)c->rq.n, (unsigned long long)c->rq.k);
    og_resp_head_open(c, 200, "text/plain; charset=utf-8", n);
    for (uint64_t i = 0; i < c->rq.n; i++) {
        struct evbuffer_iovec v;
        evbuffer_add_printf(out, "X-Fill-%llu: ", (unsigned long long)i);
        if (c->rq.k && evbuffer_reserve_space(out, (ev_ssize_t)c->rq.k, &v, 1) == 1) {
            for (uint64_t j = 0; j < c->rq.k; j++)
                ((char *)v.iov_base)[j] = (char)('a' + (i + j) % 26);
            v.iov_len = c->rq.k;
            evbuffer_commit_space(out, &v, 1);
        }
        evbuffer_add(out, "\r\n", 2);
    }
    evbuffer_add(out, "\r\n", 2);
    if (!c->rq.head_only) {
        evbuffer_add(out, body, (size_t)n);
        c->rq.bytes_out = (uint64_t)n;
    }
    c->rq.resp = OG_RESP_DONE;
}

static void respond_status(struct og_conn *c)
{
    char body[96];
    int code = (int)c->rq.n;
    if (code < 200) {
        /* RFC 9110 §15.2: a 1xx is interim (never to HTTP/1.0); a final follows */
        if (c->rq.minor >= 1)
            og_resp_head(c, code, NULL, OG_LEN_NONE, NULL);
        int n = snprintf(body, sizeof(body), "status %d was sent as an interim response\n", code);
        return og_resp_simple(c, 200, "text/plain; charset=utf-8", body, (size_t)n);
    }
    int n = snprintf(body, sizeof(body), "status %d\n", code);
    og_resp_simple(c, code, "text/plain; charset=utf-8", body, (size_t)n);
}

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
    struct og_conn *c = arg;
    char body[64];
    int n = snprintf(body, sizeof(body), "delayed %llu ms\n", (unsigned long long)c->rq.n);
    og_resp_simple(c, 200, "text/plain; charset=utf-8", body, (size_t)n);
    og_conn_kick(c);
}

static void respond_delay(struct og_conn *c)
{
    struct timeval tv = {(time_t)(c->rq.n / 1000), (suseconds_t)(c->rq.n % 1000) * 1000};
    c->rq.timer = evtimer_new(c->srv->base, delay_cb, c);
    if (!c->rq.timer || evtimer_add(c->rq.timer, &tv) != 0)
        return og_resp_error(c, 500, "cannot arm a timer");
    c->rq.resp = OG_RESP_WAIT;
}

static void start_stream(struct og_conn *c, int64_t length, const char *extra)
{
    og_resp_head(c, 200, "application/octet-stream", length, extra);
    c->rq.gen_len = c->rq.n;
    c->rq.resp = c->rq.head_only ? OG_RESP_DONE : OG_RESP_STREAMING;
}

void og_route_respond(struct og_conn *c)
{
    static const char closing[] = "closing\n";
    switch (c->rq.route) {
    case OG_R_ROOT:
        return og_resp_simple(c, 200, "text/html; charset=utf-8", root_html, sizeof(root_html) - 1);
    case OG_R_PAGE:
        return respond_page(c);
    case OG_R_ASSET:
        return respond_asset(c);
    case OG_R_BYTES:
        return start_stream(c, (int64_t)c->rq.n, NULL);
    case OG_R_CHUNKED:
        return start_stream(c, OG_LEN_CHUNKED, NULL);
    case OG_R_TRAILERS:
        SHA256_Init(&c->rq.gen_sha);
        /* RFC 9110 §6.6.2: announce the trailer fields */
        return start_stream(c, OG_LEN_CHUNKED, "Trailer: X-Body-Sha256, X-Origin-Trailer\r\n");
    case OG_R_INSPECT:
        return og_inspect_finish(c);
    case OG_R_DELAY:
        return respond_delay(c);
    case OG_R_STATUS:
        return respond_status(c);
    case OG_R_HEADERS:
        return respond_headers(c);
    case OG_R_CLOSE:
        return og_resp_simple(c, 200, "text/plain; charset=utf-8", closing, sizeof(closing) - 1);
    case OG_R_ERROR:
        return og_resp_error(c, c->rq.status, c->rq.why);
    default:
        return og_resp_error(c, 500, "no responder for this route");
    }
}

void og_route_produce(struct og_conn *c)
{
    og_stream_produce(c);
}

void og_route_body(struct og_conn *c, struct evbuffer *in, size_t n)
{
    if (c->rq.route == OG_R_ECHO)
        return og_echo_body(c, in, n);
    if (c->rq.hash_body) {
        struct evbuffer_iovec v[8];
        size_t left = n;
        while (left) {
            int k = evbuffer_peek(in, (ev_ssize_t)left, NULL, v, 8);
            size_t took = 0;
            for (int i = 0; i < k && i < 8 && took < left; i++) {
                size_t m = v[i].iov_len < left - took ? v[i].iov_len : left - took;
                SHA256_Update(&c->rq.sha, v[i].iov_base, m);
                took += m;
            }
            if (took == 0)
                break; /* cannot happen: the caller checked the length */
            evbuffer_drain(in, took);
            left -= took;
        }
        return;
    }
    evbuffer_drain(in, n);
}

void og_route_body_end(struct og_conn *c)
{
    if (c->rq.route == OG_R_ECHO)
        og_echo_end(c);
}
