/* h1_bench: parse a realistic set of browser-like request heads and typical
 * application response heads, and print ns per message for our parser and,
 * in the same run, for Debian's libhttp-parser (when built with it). Both
 * produce what a proxy needs: method/target or status, and every field as a
 * (name, value) view; http_parser through its callbacks.
 *
 *   h1_bench [iterations]      (default 200000 per message set)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/h1_parse.h"

#ifdef H2B_HAVE_HTTP_PARSER
#include <http_parser.h>
#endif

#define MAXF 64

static const char *const requests[] = {
    /* Chrome, first page load */
    "GET /index.html HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"118\", \"Google Chrome\";v=\"118\", \"Not=A?Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n"
    "Cookie: session=7f3a9c2e1b4d8f6a; _ga=GA1.2.1234567890.1699999999; theme=dark\r\n"
    "\r\n",
    /* Firefox, a sub-resource */
    "GET /static/js/app.3f9c2a1b.js HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://www.example.com/index.html\r\n"
    "Connection: keep-alive\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "If-None-Match: \"5e8f-1a2b3c4d\"\r\n"
    "\r\n",
    /* XHR API POST with a JSON body */
    "POST /api/v2/orders?include=items HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 348\r\n"
    "Authorization: Bearer "
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dQw4w9WgXcQ\r\n"
    "Accept: application/json\r\n"
    "Origin: https://www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Safari/605.1.15\r\n"
    "X-Request-Id: 3b6f2c1e-8d4a-4f0b-9e7c-1a2b3c4d5e6f\r\n"
    "\r\n",
    /* curl */
    "GET /healthz HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n",
};

static const char *const responses[] = {
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Mon, 23 Nov 2026 11:00:00 GMT\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Length: 15320\r\n"
    "Last-Modified: Sun, 22 Nov 2026 09:12:44 GMT\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"5e8f-1a2b3c4d\"\r\n"
    "Cache-Control: max-age=600\r\n"
    "Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
    "Accept-Ranges: bytes\r\n"
    "\r\n",
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Vary: Accept-Encoding, Origin\r\n"
    "Access-Control-Allow-Origin: https://www.example.com\r\n"
    "Set-Cookie: session=7f3a9c2e1b4d8f6a; Path=/; HttpOnly; Secure; SameSite=Lax\r\n"
    "X-Request-Id: 3b6f2c1e-8d4a-4f0b-9e7c-1a2b3c4d5e6f\r\n"
    "Date: Mon, 23 Nov 2026 11:00:00 GMT\r\n"
    "\r\n",
    "HTTP/1.1 304 Not Modified\r\n"
    "Date: Mon, 23 Nov 2026 11:00:00 GMT\r\n"
    "ETag: \"5e8f-1a2b3c4d\"\r\n"
    "Cache-Control: max-age=600\r\n"
    "\r\n",
    "HTTP/1.1 404 Not Found\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 9\r\n"
    "\r\n",
};

#define NREQ  (sizeof requests / sizeof requests[0])
#define NRESP (sizeof responses / sizeof responses[0])

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Parsers write into their input (we lowercase names): one copy per message. */
static char *bufs[NREQ + NRESP];
static size_t lens[NREQ + NRESP];
static volatile size_t sink;

static double bench_ours(bool resp, size_t iters)
{
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[MAXF];
    size_t n = resp ? NRESP : NREQ, base = resp ? NREQ : 0;
    double t0 = now_ns();
    for (size_t it = 0; it < iters; it++) {
        for (size_t i = 0; i < n; i++) {
            h1_parser_init(&p, NULL);
            ptrdiff_t r =
                resp ? h1_parse_response(&p, 0, bufs[base + i], lens[base + i], &m, f, MAXF)
                     : h1_parse_request(&p, bufs[base + i], lens[base + i], &m, f, MAXF);
            if (r <= 0) {
                fprintf(stderr, "our parser refused message %zu: %s\n", i, h1_err_name((int)r));
                exit(1);
            }
            sink += m.nfields;
        }
    }
    return (now_ns() - t0) / (double)(iters * n);
}

#ifdef H2B_HAVE_HTTP_PARSER
/* What a proxy keeps from http_parser: views of the target and each field. */
struct hp_state {
    struct hpack_field f[MAXF];
    size_t n;
    const char *url;
    size_t url_len;
};

static int hp_url(http_parser *p, const char *at, size_t len)
{
    struct hp_state *s = p->data;
    s->url = at;
    s->url_len = len;
    return 0;
}

static int hp_field(http_parser *p, const char *at, size_t len)
{
    struct hp_state *s = p->data;
    if (s->n < MAXF) {
        s->f[s->n].name = at;
        s->f[s->n].name_len = (uint32_t)len;
    }
    return 0;
}

static int hp_value(http_parser *p, const char *at, size_t len)
{
    struct hp_state *s = p->data;
    if (s->n < MAXF) {
        s->f[s->n].value = at;
        s->f[s->n].value_len = (uint32_t)len;
        s->n++;
    }
    return 0;
}

static int hp_done(http_parser *p)
{
    return 0;
}

static double bench_http_parser(bool resp, size_t iters)
{
    http_parser_settings st;
    memset(&st, 0, sizeof st);
    st.on_url = hp_url;
    st.on_header_field = hp_field;
    st.on_header_value = hp_value;
    st.on_headers_complete = hp_done;
    http_parser p;
    struct hp_state s;
    size_t n = resp ? NRESP : NREQ, base = resp ? NREQ : 0;
    double t0 = now_ns();
    for (size_t it = 0; it < iters; it++) {
        for (size_t i = 0; i < n; i++) {
            http_parser_init(&p, resp ? HTTP_RESPONSE : HTTP_REQUEST);
            s.n = 0;
            p.data = &s;
            size_t r = http_parser_execute(&p, &st, bufs[base + i], lens[base + i]);
            if (r != lens[base + i] || HTTP_PARSER_ERRNO(&p) != HPE_OK) {
                fprintf(stderr, "http_parser refused message %zu: %s\n", i,
                        http_errno_name(HTTP_PARSER_ERRNO(&p)));
                exit(1);
            }
            sink += s.n;
        }
    }
    return (now_ns() - t0) / (double)(iters * n);
}
#endif

/* Best of 5 runs: the least disturbed by the other work on the machine. */
static double best(double (*fn)(bool, size_t), bool resp, size_t iters)
{
    double b = 1e30;
    for (int k = 0; k < 5; k++) {
        double t = fn(resp, iters);
        if (t < b)
            b = t;
    }
    return b;
}

static void report(const char *what, bool resp, size_t iters)
{
    size_t n = resp ? NRESP : NREQ, base = resp ? NREQ : 0, bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += lens[base + i];
    double ours = best(bench_ours, resp, iters);
    printf("%-10s %zu messages, %4zu bytes avg\n", what, n, bytes / n);
    printf("  h2bridge h1_parse   %8.1f ns/msg  %6.2f GB/s\n", ours,
           (double)bytes / (double)n / ours);
#ifdef H2B_HAVE_HTTP_PARSER
    double hp = best(bench_http_parser, resp, iters);
    printf("  libhttp-parser %u.%u  %8.1f ns/msg  %6.2f GB/s   ratio %.2fx\n",
           HTTP_PARSER_VERSION_MAJOR, HTTP_PARSER_VERSION_MINOR, hp, (double)bytes / (double)n / hp,
           hp / ours);
#else
    printf("  (libhttp-parser not found at configure time: no comparison)\n");
#endif
}

int main(int argc, char **argv)
{
    size_t iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    for (size_t i = 0; i < NREQ + NRESP; i++) {
        const char *src = i < NREQ ? requests[i] : responses[i - NREQ];
        lens[i] = strlen(src);
        bufs[i] = malloc(lens[i]);
        memcpy(bufs[i], src, lens[i]);
    }
    report("requests", false, iters);
    report("responses", true, iters);
    for (size_t i = 0; i < NREQ + NRESP; i++)
        free(bufs[i]);
    return 0;
}
