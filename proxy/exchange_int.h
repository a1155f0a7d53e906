/* proxy/exchange_int.h — the exchange's state, shared by exchange.c
 * (request side, life cycle) and exchange_resp.c (response side). */
#ifndef H2B_PROXY_EXCHANGE_INT_H
#define H2B_PROXY_EXCHANGE_INT_H

#include "core/buf.h"
#include "core/h1_body.h"
#include "core/h1_parse.h"
#include "core/list.h"
#include "proxy/exchange.h"
#include "proxy/pool.h"

struct px_upstream;
struct cfg_route;

struct px_exchange {
    struct hb_list link; /* fc->streams bucket */
    struct px_fconn *fc;
    uint32_t sid;
    struct px_upstream *up;
    const struct cfg_route *route;
    size_t server;  /* index of the pool in up */
    unsigned tries; /* servers tried for this request */
    bool retried;   /* the stale keep-alive retry was used */
    struct px_pool_wait wait;
    bool waiting;
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
    bool got_byte, head_sent, body_done, failed;
    size_t parsed, span_off, span_len;
    int status;
};

/* exchange.c */
void px_ex_fail(struct px_exchange *ex, int status, const char *reason);
void px_ex_drop_backend(struct px_exchange *ex, bool reusable);
int px_ex_pump_request(struct px_exchange *ex);
void px_ex_connect(struct px_exchange *ex, bool fresh);
const char *px_ex_backend_name(const struct px_exchange *ex);
bool px_ex_can_retry(const struct px_exchange *ex);

/* exchange_resp.c */
void px_ex_on_readable(struct px_exchange *ex);
void px_ex_on_timeout(struct px_exchange *ex);

#endif
