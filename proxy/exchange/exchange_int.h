/* proxy/exchange/exchange_int.h — the exchange's state, shared by exchange.c
 * (request side, life cycle) and exchange_resp.c (response side). */
#ifndef H2B_PROXY_EXCHANGE_EXCHANGE_INT_H
#define H2B_PROXY_EXCHANGE_EXCHANGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/h1_body.h"
#include "core/h1_parse.h"
#include "core/list.h"
#include "core/outlier.h"
#include "proxy/exchange/exchange.h"
#include "proxy/backend/backend.h"
#include "proxy/exchange/request_id.h"

struct px_upstream;
struct cfg_route;
struct px_eh_key;
struct px_push_req;

/* An exchange's life cycle (the request side runs alongside: req_end says
 * when the client's request is complete, body_written when body bytes left
 * for the backend).
 *
 *   CONNECTING ──connection leased──→ WAIT_HEAD ──final head, body follows──→ BODY
 *        ↑                               │  └──final head without body──┐      │
 *        └──stale keep-alive retry───────┘                               ↓      ↓
 *                                                          BODY_DONE ←─body decoded
 *   WAIT_HEAD ──101 to a tunnel request (proxy/exchange/tunnel.h)──→ TUNNEL
 *   CONNECTING, WAIT_HEAD, BODY, TUNNEL ──px_ex_fail / malformed body──→ FAILED
 *   any ──px_ex_finish (on_close, refused, abort_all)──→ CLOSED
 *
 * The backend connection (bc) is held in WAIT_HEAD and BODY only (in
 * CONNECTING a lease may be pending: ex->wait) and in TUNNEL until either
 * side ends it; BODY_DONE gave it back to the pool or closed it; FAILED and
 * CLOSED closed it. */
enum px_ex_state {
    PX_EX_CONNECTING, /* waiting for a backend connection (pool lease or dial) */
    PX_EX_WAIT_HEAD,  /* request being written, no final response head yet */
    PX_EX_BODY,       /* head submitted to the client; body coming from the backend */
    PX_EX_BODY_DONE,  /* response body fully decoded; the client side may still pull */
    PX_EX_TUNNEL,     /* a byte tunnel both ways (proxy/exchange/tunnel.c) */
    PX_EX_FAILED,     /* answered locally or reset after an error: nothing more comes */
    PX_EX_CLOSED,     /* ended (px_ex_record_done ran); freed from the event loop */
};

/* A request forwarded before the client's TLS handshake finished (RFC 8470). */
enum px_ex_early {
    PX_EX_EARLY_NO,     /* forwarded after the handshake */
    PX_EX_EARLY_ADDED,  /* in early data; Early-Data: 1 added by us */
    PX_EX_EARLY_CLIENT, /* in early data, and the client sent Early-Data itself (an
                           intermediary): a 425 goes back to it (RFC 8470 §5.2) */
};

/* The backend answered 425 Too Early to ex (RFC 8470 §5.2). Returns true
 * when ex is retried (without Early-Data: the handshake has finished since),
 * false when the 425 goes to the client: the client sent Early-Data itself,
 * the handshake still runs, or it was retried once already. */
bool px_ex_early_retry(struct px_exchange *ex);

/* ex->server when no server is up and on_no_healthy is fail. */
#define PX_EX_NO_SERVER SIZE_MAX
/* ex->server when its address went away under it (a DNS change,
 * proxy/backend/adopt.h): ex->pool, draining, still serves it; a retry on
 * another server moves it to one that is there. */
#define PX_EX_GONE_SERVER (SIZE_MAX - 1)

/* "CONNECTING", … Static storage. */
const char *px_ex_state_name(enum px_ex_state s);

struct px_exchange {
    struct hb_list link; /* fc->exchanges, then fc->dead, then w->ex_cache */
    struct px_fconn *fc;
    uint32_t sid;
    /* tunnel (proxy/exchange/tunnel.h), PX_TUN_NONE for every other request.
     * These flags sit in padding (here and after got_byte): the part of the
     * struct cleared for each request does not grow. */
    uint8_t tun_kind; /* enum px_tun_kind */
    bool tun_counted; /* counted in the connection's and the worker's open tunnels */
    bool tun_up;      /* established (state TUNNEL was reached): in the gauge */
    bool tun_eof;     /* nothing more comes from the backend (closed, or the client ended) */
    struct px_upstream *up;
    const struct cfg_route *route;
    size_t server;  /* index of the pool in up; PX_EX_NO_SERVER: none is up */
    unsigned tries; /* servers tried for this request */
    size_t sticky_from; /* sticky_cookie: 1 + the server the request's cookie named, 0: none */
    bool has_key;       /* consistent_hash: the request has a key (hash_key) */
    uint64_t hash_key;  /* its hash: retries follow the key's Maglev order */
    bool retried;   /* the stale keep-alive retry was used */
    bool budgeted;  /* a retry_on retry in flight: counted in up->retrying */
    bool counted;   /* counted in up->active */
    enum px_ex_state state;
    enum px_ex_end end; /* why it failed (FAILED), else unused */
    struct px_ex_record rec; /* filled as it goes; handed over at the end */
    char *rec_strs;      /* authority, path, user agent, referer (access log only); kept
                            when the exchange is recycled */
    size_t rec_strs_cap; /* bytes allocated at rec_strs */
    struct px_pool_wait wait;
    struct px_bconn *bc;
    struct px_pool *pool;
    /* request */
    char *head;      /* storage kept when the exchange is recycled */
    size_t head_cap; /* bytes allocated at head */
    size_t head_len, head_off;
    struct hb_buf reqbuf; /* body bytes with their framing, not yet written */
    size_t uncredited;    /* body bytes not yet reported with h2_conn_consumed */
    uint64_t body_total;  /* request body bytes received (limits.max_request_body_size) */
    bool chunked;
    bool req_end;      /* the client's request is complete */
    bool body_written; /* body bytes left the buffer: no retry possible */
    bool idempotent;
    unsigned req_flags; /* H1_REQ_* */
    /* response */
    struct h1_parser parser;
    struct hpack_field *rfields; /* storage kept when the exchange is recycled */
    size_t rfields_cap;          /* entries allocated at rfields */
    size_t max_rfields;
    struct hb_buf rin;
    struct h1_body body;
    uint32_t resp_flags;
    bool got_byte; /* a response byte came on this connection (retry, messages) */
    bool stalled;   /* backend reads paused, the client takes nothing: the timer runs
                       limits.response_stall_timeout */
    bool body_wait; /* the request is out but for body bytes the client has not sent:
                       the timer runs limits.request_body_timeout */
    bool tun_idle; /* tunnel ended by tunnels.idle_timeout */
    bool tun_half; /* tunnel: the client ended, the backend connection was shut for writing */
    bool be_eof;   /* the backend closed while body bytes still wait to be decoded */
    uint8_t early; /* enum px_ex_early: forwarded from TLS early data (0-RTT) */
    bool early_retried; /* the backend's 425 was retried after the handshake */
    size_t parsed, span_off, span_len;
    int status; /* final status sent to the client (backend's or local), 0: none yet */
    struct px_eh_key *eh; /* early hints: the path this request learns for, else NULL (owned) */
    struct px_push_req *push; /* server push: what its pushes need (exchange/push.h), else
                                 NULL (owned) */
    /* The record's strings (exchange/capture.c): rec's views point here.
     * Last, and not cleared when the exchange is recycled (ex_alloc): each
     * is written before rec points at it. */
    char rec_method[16];
    char rec_rid[PX_RID_CLIENT_MAX];
    char rec_tp[PX_TRACEPARENT_LEN];
    char rec_detail[96];
    char rec_client[64];
    char tun_accept[32]; /* h2 tunnel: the Sec-WebSocket-Accept the backend must send */
    char tun_key[25];    /* h2 tunnel: the Sec-WebSocket-Key sent */
    /* The response names' original case (h1_parser_keep_case), for an
     * HTTP/1.1 client of a listener with header_case: preserve; NULL until
     * one needs it. Storage kept when the exchange is recycled (after
     * PX_EX_CLEARED: the cleared part does not grow). */
    uint8_t *rcase;
    size_t rcase_cap;
};
#define PX_EX_CLEARED offsetof(struct px_exchange, rec_method)

/* The backend side this exchange talks to (the worker's px_backend_ops). */
const struct px_backend_ops *px_ex_be(const struct px_exchange *ex);

/* True once nothing more comes from the backend for the client: the
 * exchange failed or ended. */
static inline bool px_ex_over(const struct px_exchange *ex)
{
    return ex->state >= PX_EX_FAILED;
}

/* exchange.c */
/* Ends the exchange with an error: status answered when no head was sent
 * yet, else the front resets the request; the backend connection is closed.
 * The reason goes to the log line; status picks the record's reason (504:
 * TIMEOUT, 413: BAD_REQUEST, else BACKEND_ERROR). State FAILED. */
void px_ex_fail(struct px_exchange *ex, int status, const char *reason);
/* The client made no progress for its limit (request: no body byte for
 * limits.request_body_timeout while the backend waits; else no response
 * byte taken for limits.response_stall_timeout): 408 when no head was sent,
 * else the stream is reset (h2 RST_STREAM CANCEL, HTTP/1.1: the connection
 * closes); the backend connection is closed and counted (PX_SS_STALL_*),
 * the record ends CLIENT_STALLED. State FAILED. */
void px_ex_client_stalled(struct px_exchange *ex, bool request);
/* The one retry decision: when ex may be retried (its reused keep-alive
 * connection failed before any response byte, the request is idempotent and
 * no body byte left), logs "reused connection <what>, retrying once",
 * reconnects on a fresh connection and returns true. */
bool px_ex_retry(struct px_exchange *ex, const char *what);
void px_ex_drop_backend(struct px_exchange *ex, bool reusable);
/* The retry_on decision (upstreams.*.retry_on, retries, retry_budget):
 * after failure cond (CFG_RETRY_*) on the current server, when allowed,
 * logs "<what>, retrying on another server", drops the connection and
 * connects to the next healthy server. Returns whether it did. */
bool px_ex_retry_other(struct px_exchange *ex, unsigned cond, const char *what);
/* After a failed connect: moves ex to the next server and returns true,
 * when retry_on (connect_failure), the retry count and the servers allow. */
bool px_ex_next_server(struct px_exchange *ex);
/* The retried request got its final head or ended: off the budget. */
void px_ex_budget_release(struct px_exchange *ex);
/* The timer for the current wait on the backend: per_try_timeout while no
 * response byte came (when set and shorter), else read_timeout. */
uint32_t px_ex_try_timeout(const struct px_exchange *ex);
/* What this request taught about its current server, for passive outlier
 * ejection (upstreams.*.outlier_detection; a no-op without it). Logs an
 * ejection once, in this worker. */
void px_ex_observe(struct px_exchange *ex, enum hb_outcome o);
int px_ex_pump_request(struct px_exchange *ex);
/* Writing the request to the backend failed with errno err: a retry (on
 * another server when allowed) or a 502 with a log line. */
void px_ex_write_failed(struct px_exchange *ex, int err);
/* True once a final head went to the client (the request can only be
 * reset from here on). */
static inline bool px_ex_head_sent(const struct px_exchange *ex)
{
    return ex->status != 0;
}
void px_ex_connect(struct px_exchange *ex, bool fresh);
const char *px_ex_backend_name(const struct px_exchange *ex);
bool px_ex_can_retry(const struct px_exchange *ex);

/* The request id and traceparent a request is forwarded with (decided
 * once, before admission, so that local answers are logged with an id
 * too). Views into the request or into the struct's own buffers. */
struct px_ex_ids {
    struct hb_str rid;      /* sent as request_id.header; empty: ids off */
    struct hb_str tp;       /* the traceparent the backend sees (the client's or ours) */
    bool tp_new;            /* tp was made here: it replaces the client's */
    char rid_buf[PX_RID_LEN];
    char tp_buf[PX_TRACEPARENT_LEN];
};

/* exchange/capture.c */
/* Decides ids for req on fc (request_id.*: the client's id when fc's
 * client is trusted and the value acceptable, else a new one; a new
 * traceparent in generate mode when the client's is missing or invalid). */
void px_ex_ids_decide(struct px_fconn *fc, const struct hb_msg *req, struct px_ex_ids *ids);
/* Fills the request part of a record (method, version, ids, and with an
 * access log the other strings) with views into req and ids: for a
 * request that ends during the call (a local answer). */
void px_ex_rec_view(struct px_fconn *fc, const struct hb_msg *req, const struct px_ex_ids *ids,
                    struct px_ex_record *r);
/* The same, copied into ex's storage (the record is handed over later).
 * Returns 0, or HB_ENOMEM (the optional strings are then left empty). */
int px_ex_rec_capture(struct px_exchange *ex, const struct hb_msg *req,
                      const struct px_ex_ids *ids);
/* Sets the record's detail (why the proxy ended it), copied. */
void px_ex_rec_detail(struct px_exchange *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A pushed request (exchange/push.c): as px_exchange_start for promised
 * stream sid, whose promise went out on the client's stream pushed_by
 * (the record names it). The request has no body. */
struct px_exchange *px_exchange_start_pushed(struct px_fconn *fc, uint32_t sid,
                                             const struct hb_msg *req, uint32_t pushed_by);

/* exchange/finish.c */
/* Ends the request once: fills the record's end, hands it to
 * px_ex_record_done, state CLOSED. A no-op when already CLOSED. */
void px_ex_finish(struct px_exchange *ex, enum px_ex_end reason);

/* exchange_resp.c */
void px_ex_on_readable(struct px_exchange *ex);
void px_ex_on_timeout(struct px_exchange *ex);

#endif
