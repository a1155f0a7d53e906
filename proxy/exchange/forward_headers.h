/* proxy/exchange/forward_headers.h — the fields of a request forwarded to a backend.
 *
 * From the client's h2 request: cookie crumbs (RFC 9113 §8.2.3 lets a client
 * split Cookie into several fields) are joined into one field with "; ";
 * X-Forwarded-For gets the client address appended (one field); a client's
 * X-Forwarded-Proto is replaced by ours; Forwarded (RFC 7239) and Via
 * (RFC 9110 §7.6.3: "2 h2bridge", "1.1 h2bridge" or "1.0 h2bridge", the
 * version the client's request came in) are added; the request id and a
 * generated traceparent replace the client's. Each addition is switched by
 * the options.
 * Hop-by-hop fields are left for core/h1_write to drop.
 */
#ifndef H2B_PROXY_EXCHANGE_FORWARD_HEADERS_H
#define H2B_PROXY_EXCHANGE_FORWARD_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/msg.h"

struct px_fwd_opts {
    bool x_forwarded_for;
    bool x_forwarded_proto;
    bool forwarded;
    bool via;
    const char *proto;       /* "https" or "http" */
    const char *client_addr; /* "192.0.2.1" or "2001:db8::1" (no brackets) */
    /* request_id: when rid is not empty, every client field named rid_name
     * is dropped and one rid_name: rid is added (rid may be the client's
     * own value, when trusted). */
    struct hb_str rid_name, rid;
    /* W3C Trace Context: when not empty, the client's traceparent and
     * tracestate are dropped and traceparent: this is added (a new trace
     * starts, so the old state does not belong to it). */
    struct hb_str traceparent;
    /* mTLS (tls.client_auth): every client field named cert_names[i] is
     * dropped, and cert_names[i]: cert_values[i] added where the value is
     * not empty (the verified certificate's subject, SAN, hash). */
    struct hb_str cert_names[3], cert_values[3];
    bool cert_fields;
    /* forwarded.x_forwarded_for_mode: whether the client's own
     * X-Forwarded-For and Forwarded are kept (appended to) or dropped
     * (ours alone), and whether a trusted proxy's X-Forwarded-Proto
     * passes as it came. */
    bool keep_client_xff;
    bool keep_client_xfp;
    /* TLS early data (RFC 8470 §5.1): Early-Data: 1 is added unless the
     * client sent Early-Data itself (a client's field is never removed). */
    bool early_data;
};

/* x_forwarded_for_mode: trust, a request from a trusted proxy: the client
 * is the rightmost address of its X-Forwarded-For (the last field's last
 * entry first) that is not in trusted; when every one is, the leftmost.
 * An entry that is not an IP address is taken as the client (what the
 * first untrusted hop wrote). Returns a view into req, or empty when req
 * has no X-Forwarded-For. */
struct cfg_networks;
struct hb_str px_fwd_client_from_xff(const struct hb_msg *req, const struct cfg_networks *trusted);

/* Upper bound of the fields px_fwd_build() writes for req. */
size_t px_fwd_fields_bound(const struct hb_msg *req);

/* Writes the forwarded request's fields into out[0..cap) and sets *n. Joined
 * values (cookie, x-forwarded-for, forwarded) are allocated from a; the
 * other fields point into req's storage. Returns 0, HB_ENOMEM (arena
 * exhausted) or HB_ELIMIT (cap too small). */
int px_fwd_build(const struct hb_msg *req, const struct px_fwd_opts *o, struct hb_arena *a,
                 struct hpack_field *out, size_t cap, size_t *n);

#endif
