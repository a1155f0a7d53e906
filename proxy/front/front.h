/* proxy/front/front.h — what an exchange needs from the client side of its
 * connection, whichever protocol the client speaks: HTTP/2 (front/h2.c,
 * the stream's h2_conn) or HTTP/1.1 (front/h1.c, one exchange at a time).
 * Each call goes to the protocol's px_front_ops (proxy/front/conn.h), which
 * schedules the write of what it produced; the arguments and the
 * return values are those of the h2_conn_* function of the same name
 * (core/h2_conn.h), with "stream id" meaning the exchange's id on fc.
 */
#ifndef H2B_PROXY_FRONT_FRONT_H
#define H2B_PROXY_FRONT_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"
#include "core/h1_write.h"
#include "core/msg.h"

struct px_fconn;
struct px_exchange;

/* Submits the response head (1xx allowed, end: no body follows). Returns 0 or
 * an HB_E* code (unknown id, wrong state). */
int px_front_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                             bool end);

/* Submits response trailers (ends the response). HTTP/1.1 clients get them
 * in the last chunk of a chunked response; a response framed by length
 * cannot carry them and drops them (RFC 9110 §6.5). Returns 0 or an HB_E*
 * code. */
int px_front_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers);

/* The h1 writer's name case for a header_case setting. */
static inline enum h1_name_case px_front_name_case(enum cfg_header_case c)
{
    return c == CFG_HCASE_PRESERVE ? H1_CASE_PRESERVE
           : c == CFG_HCASE_TITLE  ? H1_CASE_TITLE
                                   : H1_CASE_LOWER;
}

/* Attaches ex to request sid on fc (px_front_ops.bind). */
void px_front_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex);

/* Response body bytes are available again: the frontend will pull them with
 * px_exchange_read_data(). Returns 0 or an HB_E* code. */
int px_front_resume_data(struct px_fconn *fc, uint32_t sid);

/* n request body bytes were delivered to the backend (or dropped): the
 * frontend may accept that many more (flow control / socket reads).
 * Returns 0 or an HB_E* code. */
int px_front_consumed(struct px_fconn *fc, uint32_t sid, size_t n);

/* Aborts the exchange after its response head was sent: RST_STREAM with
 * code on h2; on HTTP/1.1 the connection is closed (the only way to tell
 * a client that a response is truncated). Returns 0 or an HB_E* code. */
int px_front_reset_stream(struct px_fconn *fc, uint32_t sid, uint32_t code);

/* Bytes on the wire of request sid so far (px_front_ops.wire): valid
 * until the request ended (h2: also during its close). */
void px_front_wire(const struct px_fconn *fc, uint32_t sid, uint64_t *in, uint64_t *out);

/* Server push (proxy/exchange/push.h): true when fc's protocol and its
 * peer allow a promise now (HTTP/2, push enabled for the connection, the
 * client's SETTINGS_ENABLE_PUSH=1, no GOAWAY). False on HTTP/1.1. */
bool px_front_can_push(const struct px_fconn *fc);

/* Promises req (GET, scheme, authority, path, fields) on request sid:
 * the promised stream id (> 0), or an HB_E* code (HB_EUNSUPPORTED where
 * push is not possible, HB_ELIMIT at the client's MAX_CONCURRENT_STREAMS).
 * The promised request is then started by the caller. */
int64_t px_front_push_promise(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req);

/* "https" on a TLS connection, "http" on a cleartext one (for
 * X-Forwarded-Proto / Forwarded). Static storage. */
const char *px_front_scheme(const struct px_fconn *fc);

#endif
