/* alog_bench: formats one realistic access log entry (an h2 GET through
 * TLS, a browser's user agent and referer, a request id) in each format and
 * prints ns per line and the line's length. The formatter is the whole
 * per-request cost of a line but the copy into the ring
 * (proxy/obs/alog_fmt.h, docs/benchmarks.md).
 *
 *   alog_bench [iterations [format]]   (default 2000000 per format; all three)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/obs/alog_fmt.h"

#define S(lit) HB_STR_LIT(lit)

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    struct px_alog_entry e = {
        .time_ns = (int64_t)1796306400 * 1000000000 + 123456789,
        .client_addr = S("203.0.113.7"), .client_port = 50123, .listener = S("public"),
        .tls_version = S("TLSv1.3"), .tls_cipher = S("TLS_AES_128_GCM_SHA256"),
        .sni = S("www.example.com"), .protocol = S("h2"), .version = 20, .stream_id = 13,
        .method = S("GET"), .authority = S("www.example.com"),
        .path = S("/static/js/app.3f9c2a1b.js?v=12"), .status = 200, .resp_body_bytes = 48213,
        .wire_in = PX_ALOG_NO_BYTES, .wire_out = PX_ALOG_NO_BYTES, .duration_ns = 12345678,
        .upstream = S("app"), .backend = S("10.0.0.12:8080"), .connect_ns = 12000,
        .first_byte_ns = 9000000, .end_reason = S("COMPLETE"),
        .request_id = S("9f3c4a1b2c3d4e5f60718293a4b5c6d7"),
        .user_agent = S("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
        .referer = S("https://www.example.com/index.html"),
    };
    static const char *const names[] = {"combined", "common", "json"};
    char line[8192];
    for (int f = PX_ALOG_COMBINED; f <= PX_ALOG_JSON; f++) {
        if (argc > 2 && strcmp(argv[2], names[f]) != 0)
            continue;
        struct px_alog_prog p;
        if (px_alog_compile(&p, (enum px_alog_format)f, NULL, 0, NULL) != 0)
            return 1;
        size_t n = 0, sum = 0;
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            e.time_ns += 1000; /* a new millisecond every 1000 lines */
            n = px_alog_format(&p, &e, line, sizeof line);
            sum += (unsigned char)line[n / 2];
        }
        double ns = (now_ns() - t0) / (double)iters;
        printf("%-9s %6.1f ns/line  %4zu bytes  (%zu)\n", names[f], ns, n, sum % 10);
        px_alog_prog_free(&p);
    }
    return 0;
}
