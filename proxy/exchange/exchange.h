/* proxy/exchange/exchange.h — one request/response exchange: a request from the
 * client side (an h2 stream, or one HTTP/1.1 request: proxy/front/front.h hides
 * which) and an HTTP/1.1 request/response on a leased backend connection.
 *
 * Admission (proxy/exchange/admit.h) comes first: a request that is not admitted gets
 * its local answer (421, 413, 404, 501; 503 when out of memory) from
 * px_exchange_start and no exchange.
 *
 * Request: the head becomes an HTTP/1.1 head (core/h1_write) at once; the
 * body is framed with Content-Length when the client gave one, else chunked
 * (request trailers go in the last chunk). Flow control: the client is
 * credited (px_front_consumed) only as bytes are written to the backend.
 *
 * Response: the head is parsed by core/h1_parse and submitted; the body is
 * decoded by core/h1_body lazily, inside the front's pull
 * (px_exchange_read_data), from a bounded per-exchange buffer
 * (limits.stream_buffer_size): when it is full the backend is not read, and
 * reading resumes as the client takes bytes.
 *
 * Errors: connect failure → 502, connect or read timeout → 504, pool queue
 * timeout or full queue → 503, malformed response → 502 and the backend
 * connection closed; after the head was sent, the front resets the request
 * (RST_STREAM INTERNAL_ERROR on h2, a closed connection on HTTP/1.1). A
 * reused keep-alive connection that fails before any response byte is
 * retried once on a fresh connection (idempotent requests whose body did not
 * leave yet). One log line per error names the client, stream, backend and
 * reason.
 *
 * End: every request that reached px_exchange_start ends exactly once in
 * px_ex_record_done() with a struct px_ex_record (timings, bytes, status,
 * upstream and backend, retries, why it ended).
 */
#ifndef H2B_PROXY_EXCHANGE_EXCHANGE_H
#define H2B_PROXY_EXCHANGE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"
#include "core/str.h"
#include "core/time.h"

struct px_fconn;
struct px_exchange;

/* Why a request ended. */
enum px_ex_end {
    PX_EX_END_COMPLETE,      /* the whole response went to the client */
    PX_EX_END_LOCAL,         /* answered by the proxy, no backend (421, 413, 404, 501, 503) */
    PX_EX_END_BAD_REQUEST,   /* the request body was malformed or over the limit (400, 413) */
    PX_EX_END_BACKEND_ERROR, /* connect failed, pool queue, malformed response: 502/503 or reset */
    PX_EX_END_TIMEOUT,       /* connect or read timeout: 504 or reset */
    PX_EX_END_CLIENT_RESET,  /* the client reset the stream before the response ended */
    PX_EX_END_CONN_CLOSED,   /* the client connection closed first (shutdown, error, EOF) */
    PX_EX_END_CLIENT_TIMEOUT, /* HTTP/1.1: the request head did not arrive in time (408) */
    PX_EX_END_CLIENT_STALLED, /* the client took no response byte for
                                 limits.response_stall_timeout (reset), or sent no body byte
                                 for limits.request_body_timeout (408): backend connection
                                 closed */
};

/* "COMPLETE", "LOCAL", … Static storage. */
const char *px_ex_end_name(enum px_ex_end e);

/* What an access log line or a counter needs about one request. Times are
 * hb_time_now_ns() values, 0 for what did not happen.
 *
 * The request's strings are views valid during px_ex_record_done only:
 * method, version and request_id always; the others (authority, path,
 * user_agent, referer, traceparent) only when the worker's access log
 * shows them (proxy/obs/alog.h, PX_ALOG_USES), else empty — looking them
 * up and copying them costs work per request nobody reads. Each is cut at PX_EX_REC_FIELD_MAX bytes (cut
 * shows as field_cut). An HTTP/1.1 request whose head could not be parsed
 * (400, 431) or did not arrive (408) has empty strings. */
#define PX_EX_REC_FIELD_MAX 2048
struct px_ex_record {
    uint32_t sid;           /* stream id (HTTP/1.1: 1, 3, 5, … per connection) */
    int status;             /* final status sent to the client; 0: none */
    enum px_ex_end reason;
    const char *upstream;   /* upstreams[].name of the route, or "-" (static or cfg storage) */
    const char *backend;    /* the last backend tried ("127.0.0.1:8080"), or "-" */
    unsigned retries;       /* connect attempts after the first, plus the stale-connection retry */
    uint64_t req_body_bytes;  /* request body bytes received from the client */
    uint64_t resp_body_bytes; /* response body bytes handed to the client side */
    hb_ns_t t_start;        /* request head received */
    hb_ns_t t_connected;    /* backend connection in hand (last attempt) */
    hb_ns_t t_first_byte;   /* first response byte from the backend */
    hb_ns_t t_end;          /* ended */
    int version;            /* 10, 11: HTTP/1.x; 20: HTTP/2; 0: no request head parsed */
    struct hb_str method, authority, path, user_agent, referer;
    struct hb_str request_id;  /* the id sent to the backend (request_id.*), or empty */
    struct hb_str traceparent; /* the traceparent sent to the backend, or empty */
    struct hb_str client_addr; /* from a trusted proxy's X-Forwarded-For (forwarded.trusted),
                                  else empty: the connection's peer */
    bool field_cut;            /* a string above was cut at PX_EX_REC_FIELD_MAX */
    uint64_t wire_in, wire_out; /* request / response bytes with their framing on the client
                                   connection (h2 frames, HTTP/1.1 head + body), no TLS; a
                                   local answer on h2 has wire_in only */
    const char *tunnel;     /* NULL, or the tunnel it became ("upgrade", "websocket-h2":
                               proxy/exchange/tunnel.h): then the body bytes are the
                               tunnel's each way, t_end - t_start its duration */
    uint32_t pushed_by;     /* server push: the stream whose response promised this one,
                               0: a request the client sent */
    const char *detail;     /* why the proxy ended it, for the log ("connect failed
                               (Connection refused)", "RST_STREAM CANCEL"), or NULL;
                               static or valid during px_ex_record_done */
};

/* The one place where every request ends (called exactly once per request
 * by the exchange code): logs at debug level for now; access logs and
 * metrics plug in here. fc is the client connection (for its peer). */
void px_ex_record_done(const struct px_fconn *fc, const struct px_ex_record *r);

/* An HTTP/1.1 request the front answered itself before any exchange: its
 * head was malformed or too large (400, 431) or did not arrive in time
 * (408). Makes its record (BAD_REQUEST or CLIENT_TIMEOUT, no request
 * strings) and hands it to px_ex_record_done. start: when its first byte
 * came (0: unknown, now). */
void px_exchange_record_refused_head(struct px_fconn *fc, uint32_t sid, int status,
                                     const char *why, hb_ns_t start);

/* A new request head (valid during the call only). Admits it (admit.h),
 * writes its HTTP/1.1 head and leases a backend connection. When the
 * request is not admitted or cannot be served (out of memory: 503), the
 * answer is submitted here, the request ends (px_ex_record_done, LOCAL) and
 * NULL is returned; the caller then discards the request's body. The
 * exchange is owned by fc (its list of exchanges). */
struct px_exchange *px_exchange_start(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req,
                                      bool end_stream);

/* Request body bytes (valid during the call) and/or its end. */
void px_exchange_on_data(struct px_exchange *ex, const uint8_t *data, size_t len, bool end);

/* Request trailers (end of the request). */
void px_exchange_on_trailers(struct px_exchange *ex, const struct hb_msg *trailers);

/* The engine pulls response body bytes (see h2_callbacks.read_data). */
ptrdiff_t px_exchange_read_data(struct px_exchange *ex, uint8_t *dst, size_t max, bool *eof);

/* The request left the front (complete: error_code H2_NO_ERROR, or reset):
 * the backend connection is closed if still held (a complete response gave
 * it back already) and the request ends (px_ex_record_done). ex is
 * unlinked at once and freed by px_exchange_reap(): the engine may report
 * the close from inside a submit call made by the exchange itself. */
void px_exchange_on_close(struct px_exchange *ex, uint32_t error_code);

/* The front answered status itself because the request body was malformed
 * or over limits.max_request_body_size (HTTP/1.1, before any response
 * head): the backend connection is closed and the request ends
 * (BAD_REQUEST, status). ex is then as after px_exchange_on_close. */
void px_exchange_refused(struct px_exchange *ex, int status);

/* Frees the exchanges of fc closed since the last call. Call it from the
 * top of the event loop only (never from inside exchange code). */
void px_exchange_reap(struct px_fconn *fc);

/* Frees every exchange of fc, closing their backend connections (the client
 * connection is going away; no engine callback follows). Those still open
 * end here (CONN_CLOSED, or the error that failed them). */
void px_exchange_abort_all(struct px_fconn *fc);

/* Exchanges a worker keeps for reuse after they end (see exchange.c).
 * None under AddressSanitizer: a recycled object would hide a use after
 * free from it. */
#if defined(__SANITIZE_ADDRESS__)
#define PX_EX_CACHE 0
#else
#define PX_EX_CACHE 64
#endif

/* Frees the worker's cached exchanges (at worker exit). */
struct px_worker;
void px_exchange_cache_free(struct px_worker *w);

/* Worker loop, after up's servers changed (proxy/backend/adopt.h): every
 * exchange on up learns its server's new index, or that its address went
 * away (it stays on its draining pool). proxy/exchange/remap.c. */
struct px_upstream;
struct px_pool;
void px_exchange_servers_moved(struct px_worker *w, struct px_upstream *up);

/* True when an exchange of w (open, or closed and not yet freed) points at
 * pool p. */
bool px_exchange_uses_pool(struct px_worker *w, const struct px_pool *p);

#endif
