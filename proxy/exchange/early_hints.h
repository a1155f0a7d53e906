/* proxy/exchange/early_hints.h — 103 Early Hints sent by the proxy itself
 * (routes[].early_hints, docs/early-hints.md).
 *
 * On a route with early_hints, a GET gets a 103 at once, before its backend
 * is even leased: the route's configured Link values, plus the Link values
 * with rel=preload (of the kinds learn_as names, all when it is not set)
 * or rel=preconnect that the last 2xx response for the same authority and
 * path (query left out) carried. That memory is a
 * per-worker cache per route: no lock, O(1) lookup, insert and removal (a
 * hash table with an LRU list), at most max_entries paths and
 * max_entry_size bytes of Link values per path; a 2xx without such links
 * removes the path's entry; other statuses leave it as it is.
 *
 * The exchange calls two hooks, each behind the route's early_hints.on, so
 * a route without early_hints costs one branch per request and nothing
 * else. A backend's own 103 is forwarded by exchange_resp.c as before;
 * the client may then get two 103s, which RFC 8297 allows. */
#ifndef H2B_PROXY_EXCHANGE_EARLY_HINTS_H
#define H2B_PROXY_EXCHANGE_EARLY_HINTS_H

#include <stddef.h>

#include "core/msg.h"

struct px_exchange;
struct px_worker;

/* At dispatch (px_exchange_start, route chosen, before the backend is
 * asked): submits the 103 for req when there is anything to say, and
 * keeps the request's cache key on ex for px_eh_on_final when the route
 * learns. Out of memory only costs the hint. */
void px_eh_on_request(struct px_exchange *ex, const struct hb_msg *req);

/* At the backend's final response head m (before it goes to the client):
 * a 2xx teaches the cache the path's Link preload/preconnect values (or
 * removes its entry when it has none). A no-op without a kept key. */
void px_eh_on_final(struct px_exchange *ex, const struct hb_msg *m);

/* Frees what px_eh_on_request kept on ex (when the exchange is freed). */
void px_eh_ex_free(struct px_exchange *ex);

/* Frees the worker's caches (px_worker_free). */
void px_eh_worker_free(struct px_worker *w);

/* Learned paths in the worker's cache for route index ri (tests, status). */
size_t px_eh_entries(const struct px_worker *w, size_t ri);

#endif
