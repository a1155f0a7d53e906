/* tools/origin/origin_resp.c — response status lines and header sections. */
#include "tools/origin/origin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/h1_write.h"

/* RFC 9110 §6.6.1: an origin server with a clock sends Date (IMF-fixdate).
 * Formatted once per second; the origin is single-threaded. */
static const char *http_date(void)
{
    static char buf[40];
    static time_t last = (time_t)-1;
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return buf;
}

void og_resp_head_open(struct og_conn *c, int status, const char *ctype, int64_t length)
{
    struct og_req *rq = &c->rq;
    struct evbuffer *out = og_out(c);

    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: h2bridge-origin\r\n"
                        "X-Origin-Id: %s\r\n",
                        status, h1_reason_phrase(status), http_date(), c->srv->id);
    if (status >= 200) {
        rq->status = status;
        if (ctype)
            evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
        if (length >= 0) {
            evbuffer_add_printf(out, "Content-Length: %lld\r\n", (long long)length);
        } else if (length == OG_LEN_CHUNKED && rq->minor >= 1) {
            rq->resp_chunked = 1;
            evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
        } else if (length == OG_LEN_CHUNKED) {
            rq->keep_alive = 0; /* RFC 9112 §6.3: 1.0 gets a close-delimited body */
        }
        if (!rq->keep_alive)
            evbuffer_add(out, "Connection: close\r\n", 19);
        else if (rq->minor == 0)
            evbuffer_add(out, "Connection: keep-alive\r\n", 24);
    }
}

void og_resp_head(struct og_conn *c, int status, const char *ctype, int64_t length,
                  const char *extra)
{
    struct evbuffer *out = og_out(c);
    og_resp_head_open(c, status, ctype, length);
    if (extra)
        evbuffer_add(out, extra, strlen(extra));
    evbuffer_add(out, "\r\n", 2);
}

void og_resp_simple(struct og_conn *c, int status, const char *ctype, const void *body, size_t len)
{
    /* RFC 9110 §8.6: no Content-Length in a 204; 304 describes another GET */
    int bodiless = status == 204 || status == 304;
    og_resp_head(c, status, ctype, bodiless ? OG_LEN_NONE : (int64_t)len, NULL);
    if (!bodiless && !c->rq.head_only && len) {
        evbuffer_add(og_out(c), body, len);
        c->rq.bytes_out += len;
    }
    c->rq.resp = OG_RESP_DONE;
}

void og_resp_error(struct og_conn *c, int status, const char *why)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "%d %s: %s\n", status, h1_reason_phrase(status), why);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(body))
        n = sizeof(body) - 1;
    og_resp_simple(c, status, "text/plain; charset=utf-8", body, (size_t)n);
}
