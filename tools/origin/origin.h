/* tools/origin/origin.h — internals of h2bridge-origin, the demo HTTP/1.1
 * keep-alive origin used by the README demo, the e2e tests and benchmarks.
 *
 * Why not evhttp: libevent 2.1's evhttp reads a server-side request body
 * whole (up to max_body_size) before the handler runs, has no way to send
 * response trailers, and gives no back-pressure between a request body and
 * its response. /echo and /trailers need all three, so the origin is a small
 * HTTP/1.1 server written directly on libevent bufferevents:
 *
 *   origin_main.c    flags, event loop, listener, signals, graceful exit
 *   origin_conn.c    one connection: head detection, body framing,
 *                    back-pressure, keep-alive, pipelining
 *   origin_parse.c   pure parsers: request head, request framing, chunked
 *   origin_resp.c    response status line and headers, Date, reasons
 *   origin_routes.c  dispatch and the small fixed endpoints
 *   origin_stream.c  streamed bodies: /bytes, /chunked, /trailers, /echo
 *   origin_inspect.c /inspect's JSON and SHA-256 of the body
 *
 * Prefix: og_. Nothing here is used by the proxy itself.
 */
#ifndef H2B_ORIGIN_H
#define H2B_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/sha.h>

#include "core/list.h"
#include "core/str.h"

/* ---- limits (each one a flag; see origin_main.c) ---------------------- */
struct og_limits {
    size_t max_head;          /* request line + header section bytes (431 above) */
    unsigned max_fields;      /* header fields per request (431 above) */
    size_t out_high;          /* output bytes queued before we stop reading/producing */
    unsigned idle_timeout_ms; /* idle keep-alive / stalled peer timeout */
    unsigned max_delay_ms;    /* largest /delay/MS */
    size_t max_resp_head;     /* largest /headers?n=K&size=S (K*S) and /page body */
};

struct og_server {
    struct event_base *base;
    struct evconnlistener *listener;
    const char *id; /* X-Origin-Id value */
    int verbose;
    struct og_limits lim;
    struct hb_list conns;
    uint64_t next_conn_id;
    int shutting_down;
};

/* ---- pure parsers (origin_parse.c) ---------------------------------- */
struct og_field {
    struct hb_str name, value; /* views into the parsed buffer */
};

struct og_head {
    struct hb_str method, target;
    int minor;               /* HTTP/1.<minor>: 0 or 1 */
    struct og_field *fields; /* caller-owned array of cap entries */
    unsigned nfields, cap;
};

/* Parses a complete request head (request line and header section, RFC 9112
 * §2-§5) from p[0..len), which must end with the empty line. Leading empty
 * lines are skipped (§2.2). Fills h's views, which point into p.
 * Returns 0; HB_ESYNTAX (answer 400); HB_ELIMIT when more than h->cap fields
 * (answer 431); HB_EUNSUPPORTED for a well-formed version other than
 * HTTP/1.0 or 1.1 (answer 505). Bare LF, obs-fold, whitespace before the
 * colon and control characters in values are all rejected. */
int og_parse_head(const char *p, size_t len, struct og_head *h);

enum og_body_kind { OG_BODY_NONE, OG_BODY_LENGTH, OG_BODY_CHUNKED };

struct og_framing {
    enum og_body_kind body;
    uint64_t length;     /* OG_BODY_LENGTH: Content-Length */
    int keep_alive;      /* persistence per RFC 9112 §9.3 */
    int expect_continue; /* "Expect: 100-continue" on HTTP/1.1 */
};

/* Derives body framing and persistence from a parsed head (RFC 9112 §6.1-
 * §6.3, §9.3; RFC 9110 §10.1.1). Returns 0, or the status code to answer
 * with (400 or 501; 417 for an unknown expectation) and sets *why to a
 * static reason. */
int og_head_framing(const struct og_head *h, struct og_framing *f, const char **why);

/* An incremental chunked-body decoder (RFC 9112 §7.1). Data bytes are not
 * copied: the caller asks og_chunked_data_left() how many of the next input
 * bytes are data, takes them, and reports them with og_chunked_data_done(). */
struct og_chunked {
    int state;
    uint64_t left;      /* data bytes left in the current chunk */
    unsigned line;      /* bytes in the current size/ext line */
    size_t trailer;     /* bytes of trailer section seen */
    size_t max_trailer; /* limit on the trailer section (and ext lines) */
    int name_ok;        /* trailer line: a token seen before ':' */
};

void og_chunked_init(struct og_chunked *c, size_t max_trailer);

/* Feeds framing bytes. Stops at the first data byte, at the end of the body
 * or at an error. Returns the number of bytes consumed (>= 0), HB_ESYNTAX
 * or HB_ELIMIT. */
ptrdiff_t og_chunked_feed(struct og_chunked *c, const char *p, size_t len);

/* Data bytes the caller may take now (0 when framing bytes come next). */
uint64_t og_chunked_data_left(const struct og_chunked *c);

/* Reports n (<= og_chunked_data_left()) data bytes taken. */
void og_chunked_data_done(struct og_chunked *c, uint64_t n);

/* True once the last chunk and the trailer section have been consumed. */
int og_chunked_done(const struct og_chunked *c);

/* ---- a connection and its current request (origin_conn.c) ------------- */
enum og_route {
    OG_R_NONE,
    OG_R_ROOT,
    OG_R_PAGE,
    OG_R_ASSET,
    OG_R_BYTES,
    OG_R_CHUNKED,
    OG_R_TRAILERS,
    OG_R_ECHO,
    OG_R_INSPECT,
    OG_R_DELAY,
    OG_R_STATUS,
    OG_R_HEADERS,
    OG_R_CLOSE,
    OG_R_ERROR, /* a precomputed error answer (status + why) */
};

enum og_resp_state {
    OG_RESP_NONE,      /* not started: waits for the request body to end */
    OG_RESP_WAIT,      /* a timer will produce it (/delay) */
    OG_RESP_STREAMING, /* head sent, body produced as the output drains */
    OG_RESP_DONE,      /* the whole response is queued */
};

struct og_conn {
    struct hb_list link; /* in og_server.conns */
    struct og_server *srv;
    struct bufferevent *bev;
    uint64_t id;      /* 1, 2, ... per process */
    unsigned nreq;    /* requests started on this connection */
    char peer[64];    /* "addr:port" */
    size_t head_scan; /* input bytes already searched for the end of head */
    int in_request;   /* a head was parsed; the request is in progress */
    int closing;      /* close once the output is flushed */
    int lingering;    /* half-closed; discarding input until EOF (§9.6) */
    size_t linger_bytes;
    int dead;                /* close now */
    int peer_eof;            /* the client shut down its sending side */
    int in_pump;             /* guard: pump() is running */
    struct og_field *fields; /* og_limits.max_fields entries */

    /* the current request */
    struct og_req {
        enum og_route route;
        int head_only; /* HEAD: no response body */
        int minor;     /* request's HTTP/1.<minor> */
        int keep_alive;
        struct og_framing fr;
        struct og_chunked ck;
        int body_done;
        uint64_t body_len; /* request body bytes received */
        int hash_body;     /* /inspect: SHA-256 of the body */
        SHA256_CTX sha;
        uint64_t n, k;   /* route parameters */
        const char *why; /* OG_R_ERROR reason */
        int status;      /* response status (for the log, and OG_R_ERROR) */
        enum og_resp_state resp;
        int resp_chunked;          /* body sent with chunked coding */
        uint64_t gen_off, gen_len; /* streamed generator position */
        SHA256_CTX gen_sha;        /* /trailers: SHA-256 of the body sent */
        struct evbuffer *aux;      /* /inspect JSON being built */
        struct event *timer;       /* /delay */
        uint64_t bytes_out;        /* response body bytes queued */
        int64_t start_ns;
        char method[16], target[96]; /* truncated copies for the log */
    } rq;
};

/* Accepts a connection (called by the listener). Takes ownership of fd; on
 * failure closes it. */
void og_conn_accept(struct og_server *srv, int fd, const struct sockaddr *sa, int salen);

/* Graceful shutdown: idle connections close now, busy ones after their
 * current response. */
void og_conn_shutdown_all(struct og_server *srv);

/* Closes every connection immediately (end of the grace period). */
void og_conn_free_all(struct og_server *srv);

/* Re-runs the connection's state machine (after a timer completed a
 * response). May free c. */
void og_conn_kick(struct og_conn *c);

static inline struct evbuffer *og_out(struct og_conn *c)
{
    return bufferevent_get_output(c->bev);
}

/* ---- responses (origin_resp.c) ----------------------------------------- */
#define OG_LEN_CHUNKED (-1) /* og_resp_head length: chunked (or close-delimited for 1.0) */
#define OG_LEN_NONE    (-2) /* no body, no Content-Length (204, 304, 1xx) */

/* Queues the status line and headers: Date, Server, X-Origin-Id,
 * Content-Type (when ctype), Content-Length or Transfer-Encoding, Connection,
 * then `extra` verbatim (complete "Name: value\r\n" lines, or NULL).
 * OG_LEN_CHUNKED on an HTTP/1.0 request makes the body close-delimited
 * (RFC 9112 §6.3) and clears keep-alive. Sets c->rq.status. */
void og_resp_head(struct og_conn *c, int status, const char *ctype, int64_t length,
                  const char *extra);

/* As og_resp_head without extra and without the empty line that ends the
 * header section: the caller adds its own fields, then "\r\n". */
void og_resp_head_open(struct og_conn *c, int status, const char *ctype, int64_t length);

/* Queues a complete response with a small body of len bytes (not sent for
 * HEAD) and marks the response done. */
void og_resp_simple(struct og_conn *c, int status, const char *ctype, const void *body, size_t len);

/* Queues a text/plain error "<status> <reason>: <why>\n" and marks the
 * response done. */
void og_resp_error(struct og_conn *c, int status, const char *why);

/* ---- routes (origin_routes.c) ------------------------------------------ */

/* Picks the route for a parsed head and checks its parameters. Called once
 * per request before the head's views die. Sets c->rq.route and friends;
 * a bad parameter becomes OG_R_ERROR. */
void og_route_select(struct og_conn *c, const struct og_head *h);

/* Starts the response once the body has been read (all routes but /echo).
 * Leaves c->rq.resp at WAIT, STREAMING or DONE. */
void og_route_respond(struct og_conn *c);

/* Called whenever there is room in the output while the response is
 * STREAMING. */
void og_route_produce(struct og_conn *c);

/* Takes the next n request-body bytes from the front of `in` (consuming
 * them) for the current route. */
void og_route_body(struct og_conn *c, struct evbuffer *in, size_t n);

/* Called once when the request body has ended. */
void og_route_body_end(struct og_conn *c);

/* ---- streamed bodies (origin_stream.c) --------------------------------- */

/* The deterministic byte pattern of /bytes, /chunked and /trailers: byte i
 * of a body is (31*i + 7*(i >> 8) + 3*(i >> 16) + 7) mod 256. Writes bytes
 * off .. off+n-1 of it to dst. */
void og_pattern_fill(uint8_t *dst, uint64_t off, size_t n);

/* /bytes, /chunked, /trailers: queue more of the body while the output is
 * below the high mark; marks the response DONE at the end. */
void og_stream_produce(struct og_conn *c);

/* /echo: sends the response head as soon as the request head is in. */
void og_echo_start(struct og_conn *c);

/* /echo: moves n body bytes from in to the output (framed when chunked). */
void og_echo_body(struct og_conn *c, struct evbuffer *in, size_t n);

/* /echo: finishes the response when the request body ends. */
void og_echo_end(struct og_conn *c);

/* ---- /inspect (origin_inspect.c) --------------------------------------- */

/* Starts the JSON document in c->rq.aux from the head (method, target,
 * version, every field in order with its case). Returns 0 or HB_ENOMEM. */
int og_inspect_begin(struct og_conn *c, const struct og_head *h);

/* Completes the JSON (body length and SHA-256) and sends the response. */
void og_inspect_finish(struct og_conn *c);

/* Lowercase hex of a 32-byte digest into out[65]. */
void og_hex_sha256(const uint8_t d[SHA256_DIGEST_LENGTH], char out[65]);

#endif
