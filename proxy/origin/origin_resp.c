/* proxy/origin/origin_resp.c — response status lines and header sections. */
#include "proxy/origin/origin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *og_reason(int status)
{
    /* RFC 9110 §15 */
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 102:
        return "Processing";
    case 103:
        return "Early Hints";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 205:
        return "Reset Content";
    case 206:
        return "Partial Content";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return ""; /* RFC 9112 §4: the reason-phrase may be empty */
    }
}

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
                        status, og_reason(status), http_date(), c->srv->id);
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
    int n = snprintf(body, sizeof(body), "%d %s: %s\n", status, og_reason(status), why);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(body))
        n = sizeof(body) - 1;
    og_resp_simple(c, status, "text/plain; charset=utf-8", body, (size_t)n);
}
