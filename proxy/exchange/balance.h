/* proxy/exchange/balance.h — what the balancing policies need from a
 * request and from the upstream's setup: the consistent_hash key, the
 * sticky cookie (upstreams.*.consistent_hash, sticky_cookie;
 * docs/backends.md "Balancing"). The pick itself is core/balance.h. */
#ifndef H2B_PROXY_EXCHANGE_BALANCE_H
#define H2B_PROXY_EXCHANGE_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct px_upstream;
struct cfg_upstream;
struct px_fconn;
struct hb_msg;
struct hpack_field;

/* A server's sticky cookie value: 16 hex digits of a hash of the upstream
 * name and the server's "host:port", the same in every worker, process
 * and reload; opaque (the address is not in it). */
#define PX_STICKY_ID_LEN 16

/* Sets up up's balancing state for u, once up->bal is initialised and
 * up->npools pools exist: the Maglev table for balance: consistent_hash
 * (built from the servers' "host:port" labels and weights), the cookie
 * values and Set-Cookie values for sticky_cookie. Nothing for the other
 * policies. Returns 0 or -1 (out of memory). Every worker builds the same
 * table. */
int px_upstream_balance_init(struct px_upstream *up, const struct cfg_upstream *u);

/* Frees what px_upstream_balance_init made (a no-op for what it did not). */
void px_upstream_balance_free(struct px_upstream *up);

/* consistent_hash: the hash of req's key from client fc (the address: the
 * PROXY protocol one, or the trusted X-Forwarded-For client; the path
 * without query; a header's first value; a cookie). false when req has no
 * such header or cookie (the pick then falls back to round-robin). */
bool px_balance_key(const struct px_upstream *up, const struct px_fconn *fc,
                    const struct hb_msg *req, uint64_t *out);

/* sticky_cookie: the index of the server req's cookie names, or SIZE_MAX
 * (no cookie, or a value no server has). */
size_t px_balance_sticky_find(const struct px_upstream *up, const struct hb_msg *req);

/* sticky_cookie: appends the Set-Cookie field that pins the client to
 * server (f has room for one more; the value lives in up). */
void px_balance_sticky_field(const struct px_upstream *up, size_t server, struct hpack_field *f,
                             size_t *n);

#endif
